// Where each field of a JSON text is: for showing the server's errors next
// to the field they name, and for editing one field in place without
// reformatting the rest.
//
//   const map = jsonPaths(text);       // null if the text is not JSON
//   map.get('data.x[1]')  ->  { key: 41, start: 47, end: 50 }
//
// Paths are spelled as the server spells them (bubble_error_t.path):
// object members joined with '.', array items as [i].  Positions are
// UTF-16 indexes into text (what a <textarea> uses); key is the index of
// the member's name (its opening quote), or -1 for array items.

export function jsonPaths(text) {
  const map = new Map();
  let i = 0;

  function ws() {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  }

  function fail() {
    throw new SyntaxError(`JSON: unexpected ${text[i] ?? 'end'} at ${i}`);
  }

  function string() {
    if (text[i] !== '"') fail();
    const start = i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      i++;
    }
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i));
  }

  function value(path, key) {
    ws();
    const start = i;
    const c = text[i];

    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
      } else {
        for (;;) {
          ws();
          const k = i;
          const name = string();
          ws();
          if (text[i++] !== ':') { i--; fail(); }
          value(path === '' ? name : `${path}.${name}`, k);
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === '}') { i++; break; }
          fail();
        }
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
      } else {
        for (let n = 0; ; n++) {
          value(`${path}[${n}]`, -1);
          ws();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === ']') { i++; break; }
          fail();
        }
      }
    } else if (c === '"') {
      string();
    } else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/
        .exec(text.slice(i, i + 64));
      if (!m) fail();
      i += m[0].length;
    }

    map.set(path, { key, start, end: i });
  }

  try {
    value('', -1);
    ws();
    if (i !== text.length) fail();
  } catch (e) {
    return null;
  }
  return map;
}

// The field a server error names, or the nearest enclosing one that is in
// the text ("data.x[7]" of a shorter column falls back to "data.x").
export function locatePath(map, path) {
  let p = path;
  while (p) {
    if (map.has(p)) return { path: p, ...map.get(p) };
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return null;
}

// A byte offset into the UTF-8 of text -> an index into text.
export function byteToIndex(text, offset) {
  let bytes = 0;
  let i = 0;
  while (i < text.length && bytes < offset) {
    const cp = text.codePointAt(i);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return i;
}

// Set one top-level member's value (a JSON literal) in place, keeping the
// rest of the text as written; adds the member if it is missing.
export function setMember(text, name, literal) {
  const map = jsonPaths(text);
  if (!map || !map.has('')) return null;
  const at = map.get(name);
  if (at) return text.slice(0, at.start) + literal + text.slice(at.end);
  const open = text.indexOf('{', map.get('').start) + 1;
  const empty = /^\s*\}/.test(text.slice(open));
  return text.slice(0, open) + `\n  ${JSON.stringify(name)}: ${literal}` +
    (empty ? '\n' : ',') + text.slice(open);
}
