// conf/www/json-paths.js in Node: the positions the playground uses to put
// the server's errors next to fields and to edit fields in place.
//
//   node tests/browser/json-paths.test.mjs

import assert from 'node:assert/strict';
import { jsonPaths, locatePath, byteToIndex, setMember }
  from '../../conf/www/json-paths.js';

const text = '{\n  "width": 800,\n  "title": "é \\"q\\"",\n' +
  '  "data": {"x": [1, "two", 3e2], "rows": [{"a": null}]}\n}\n';
const map = jsonPaths(text);
const at = (p) => text.slice(map.get(p).start, map.get(p).end);

assert.equal(at('width'), '800');
assert.equal(at('title'), '"é \\"q\\""');
assert.equal(at('data.x[1]'), '"two"');
assert.equal(at('data.x[2]'), '3e2');
assert.equal(at('data.rows[0].a'), 'null');
assert.equal(text.slice(map.get('width').key).slice(0, 7), '"width"');
assert.equal(map.get('data.x[0]').key, -1);

// a path past the end of a column falls back to the column
assert.equal(locatePath(map, 'data.x[9]').path, 'data.x');
assert.equal(locatePath(map, 'nope.deeper'), null);

// not JSON: no map
for (const bad of ['{', '{"a":}', '[1,]', '{"a":1} x', '']) {
  assert.equal(jsonPaths(bad), null, bad);
}

// byte offsets (UTF-8) -> string indexes: "é" is 2 bytes, "😀" 4 bytes
assert.equal(byteToIndex('aéb', 3), 2);
assert.equal(byteToIndex('a😀b', 5), 3);
assert.equal(byteToIndex('ab', 99), 2);

// in-place edits keep the rest of the text as written
assert.equal(setMember(text, 'width', '480'), text.replace('800', '480'));
assert.equal(setMember('{"a": [1,  2]}', 'height', '300'),
  '{\n  "height": 300,"a": [1,  2]}');
assert.equal(setMember('{}', 'width', '5'), '{\n  "width": 5\n}');
assert.equal(setMember('{"a": ', 'width', '5'), null);

console.log('json-paths: ok');
