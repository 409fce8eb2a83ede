#!/usr/bin/env python3
"""Check docs/spec.schema.json against the examples, the bench specs, a list
of invalid specs, and the parser's own tables.

    python3 tests/schema/validate_examples.py            # no nginx needed
    python3 tests/schema/validate_examples.py --against http://127.0.0.1:8080

1. every examples/*.json and tests/bench/workloads/*.json is valid;
2. a list of tricky but valid specs is valid;
3. a list of invalid specs is invalid (each is one the module also refuses,
   with a 400 or 413 whose "path" is the one listed here: --against checks
   that through a running module, and that the valid ones render);
4. the schema agrees with ngx_bubble_module/core/bubble_spec.c's tables
   (members of every object, enums) and bubble_color_names.h (colour names).

JSON is read the way the module reads it: duplicate members, non-finite or
over-long numbers, NaN/Infinity are refused before the schema sees them,
and a number written with a fraction or an exponent (800.0, 8e2) is not an
integer.  Needs python3 and python3-jsonschema (4.x); stdlib otherwise.
"""

import argparse
import decimal
import glob
import json
import math
import os
import re
import sys
import urllib.error
import urllib.request

try:
    import jsonschema
except ImportError:                             # pragma: no cover
    sys.exit("python3-jsonschema is missing: apt-get install python3-jsonschema")


HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SCHEMA = os.path.join(ROOT, "docs", "spec.schema.json")
CORE = os.path.join(ROOT, "ngx_bubble_module", "core")


# --- JSON as the module reads it ------------------------------------------

class SpecJSONError(ValueError):
    pass


def _number(text):
    if len(text) >= 64:
        raise SpecJSONError("number too long (%d characters)" % len(text))
    if not math.isfinite(float(text)):
        raise SpecJSONError("number %s is out of range" % text)


def _parse_float(text):
    _number(text)
    return decimal.Decimal(text)            # 800.0 stays a non-integer


def _parse_int(text):
    _number(text)
    return int(text)


def _parse_constant(name):
    raise SpecJSONError("%s is not JSON" % name)


def _object(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise SpecJSONError('duplicate member "%s"' % key)
        seen[key] = value
    return seen


def load_spec(text):
    return json.loads(text, parse_float=_parse_float, parse_int=_parse_int,
                      parse_constant=_parse_constant, object_pairs_hook=_object)


# --- the cases ------------------------------------------------------------

BASE = {"data": {"x": [1, 2, 3], "y": [3, 1, 2]}}


def spec(**kw):
    s = json.loads(json.dumps(BASE))
    s.update(kw)
    return json.dumps(s, ensure_ascii=False)


def with_color(**kw):
    s = {"data": {"x": [1, 2, 3], "y": [3, 1, 2], "g": ["a", "b", "a"],
                  "v": [0.5, 1.5, 2.5]}}
    s.update(kw)
    return json.dumps(s, ensure_ascii=False)


# name, JSON text: valid specs beyond the examples, at the schema's edges
VALID = [
    ("minimal columns", spec()),
    ("minimal rows", '{"data": [{"x": 1, "y": 2}, {"x": 2, "y": 3}]}'),
    ("rows with missing members and nulls",
     '{"data": [{"x": 1, "y": 2, "c": "a"}, {"x": null, "y": 3}, {"x": 3, "y": 1, "c": null}]}'),
    ("columns with nulls", spec(data={"x": [1, None, 3], "y": [2, 3, None],
                                      "c": ["a", None, "b"]})),
    ("mapping colour alias", with_color(mapping={"colour": "g"})),
    ("mapping null unmaps", spec(data={"x": [1, 2], "y": [1, 2], "size": [1, 2]},
                                 mapping={"size": None})),
    ("theme grey alias", spec(theme="grey")),
    ("all themes", spec(theme="dark", legend={"position": "none"})),
    ("colours in any case", spec(background="GhostWhite",
                                 stroke={"color": "#AbCdEf80", "width": 0},
                                 color={"value": "GREY50"})),
    ("transparent background", spec(background="transparent", format="svg")),
    ("grey0 and gray100", spec(background="grey0", stroke={"color": "gray100"})),
    ("#rgb", spec(background="#fa0")),
    ("palette name in any case", with_color(mapping={"color": "v"},
                                            color={"palette": "Viridis"})),
    ("palette array", with_color(mapping={"color": "g"},
                                 color={"palette": ["red", "#00ff00"],
                                        "limits": ["b", "a"]})),
    ("continuous limits", with_color(mapping={"color": "v"},
                                     color={"type": "continuous", "limits": [0, 3],
                                            "palette": "magma"})),
    ("label formats", spec(x={"labels": "$%.0f"}, y={"labels": "%.1f%%"})),
    ("label format flags", spec(x={"labels": "%+08.2e"}, y={"labels": "%'.0f"})),
    ("labels with breaks", spec(x={"breaks": [1, 2, 3], "labels": ["a", "b", "c"]})),
    ("log10 with positive limits", spec(x={"scale": "log10", "limits": [0.5, 10]})),
    ("sqrt reverse", spec(y={"scale": "sqrt", "reverse": True})),
    ("size radius", spec(data={"x": [1, 2], "y": [1, 2], "s": [1, 5]},
                         mapping={"size": "s"},
                         size={"type": "radius", "range": [0, 500], "breaks": [1, 5],
                               "limits": [0, 10], "title": "S"})),
    ("scale 4 and fractional alpha", spec(width=400, height=300, scale=4, alpha=0.25)),
    ("width at 16384", spec(width=16384, height=400)),
    ("font", spec(font={"family": "Noto Sans CJK SC", "size": 4})),
    ("CJK title", spec(title="中文标题", subtitle="副标题", caption="说明")),
    ("number with exponent", spec(data={"x": [1e3, 2.5e-3], "y": [1, 2]})),
    ("empty labels with empty breaks", spec(x={"breaks": [], "labels": []})),
]


# name, JSON text, the path the module's error names (the status is 400
# unless given), why the schema refuses it
INVALID = [
    ("unknown top-level member", spec(colour={"value": "red"}), "colour"),
    ("typo", spec(widht=800), "widht"),
    ("width too small", spec(width=15), "width"),
    ("width over 16384", spec(width=16385), "width", 413),
    ("width fractional", spec(width=800.5), "width"),
    ("width written 800.0", '{"width": 800.0, "data": {"x": [1], "y": [1]}}', "width"),
    ("width written 8e2", '{"width": 8e2, "data": {"x": [1], "y": [1]}}', "width"),
    ("width a string", spec(width="800"), "width"),
    ("scale below 1", spec(scale=0.5), "scale"),
    ("scale above 4", spec(scale=5), "scale"),
    ("format jpeg", spec(format="jpeg"), "format"),
    ("theme light", spec(theme="light"), "theme"),
    ("theme case", spec(theme="Minimal"), "theme"),
    ("title a number", spec(title=1), "title"),
    ("alpha above 1", spec(alpha=1.5), "alpha"),
    ("alpha negative", spec(alpha=-0.1), "alpha"),
    ("background not a colour", spec(background="#ggg"), "background"),
    ("background 5 hex digits", spec(background="#12345"), "background"),
    ("grey101", spec(background="grey101"), "background"),
    ("R-only colour name", spec(background="steelblue3"), "background"),
    ("colour name with a space", spec(background="light blue"), "background"),
    ("font size too small", spec(font={"size": 3}), "font.size"),
    ("font size too large", spec(font={"size": 73}), "font.size"),
    ("font unknown member", spec(font={"weight": "bold"}), "font.weight"),
    ("font family with ;", spec(font={"family": "Sans; rm"}), "font.family"),
    ("stroke width above 20", spec(stroke={"width": 21}), "stroke.width"),
    ("stroke unknown member", spec(stroke={"dash": [1, 2]}), "stroke.dash"),
    ("legend position inside", spec(legend={"position": "inside"}), "legend.position"),
    ("legend unknown member", spec(legend={"ncol": 2}), "legend.ncol"),
    ("axis scale log2", spec(x={"scale": "log2"}), "x.scale"),
    ("axis unknown member", spec(x={"trans": "log10"}), "x.trans"),
    ("axis limits of one", spec(x={"limits": [1]}), "x.limits"),
    ("axis limits strings", spec(x={"limits": ["a", "b"]}), "x.limits[0]"),
    ("axis reverse a string", spec(x={"reverse": "yes"}), "x.reverse"),
    ("axis breaks with a string", spec(x={"breaks": [1, "2"]}), "x.breaks[1]"),
    ("axis 33 breaks", spec(x={"breaks": list(range(33))}), "x.breaks"),
    ("labels array without breaks", spec(x={"labels": ["a", "b"]}), "x"),
    ("label format %d", spec(x={"labels": "%d"}), "x.labels"),
    ("label format two numbers", spec(x={"labels": "%.1f-%.1f"}), "x.labels"),
    ("label format no number", spec(x={"labels": "none"}), "x.labels"),
    ("label format 3-digit width", spec(x={"labels": "%100f"}), "x.labels"),
    ("label format %s", spec(x={"labels": "%s"}), "x.labels"),
    ("log10 limits from 0", spec(x={"scale": "log10", "limits": [0, 10]}), "x"),
    ("size range over 500", spec(size={"range": [1, 600]}), "size.range"),
    ("size range negative", spec(size={"range": [-1, 10]}), "size.range"),
    ("size type diameter", spec(size={"type": "diameter"}), "size.type"),
    ("size unknown member", spec(size={"max": 20}), "size.max"),
    ("palette unknown", spec(color={"palette": "rainbow"}), "color.palette"),
    ("palette empty array", spec(color={"palette": []}), "color.palette"),
    ("palette bad colour", spec(color={"palette": ["red", "#zzzzzz"]}), "color.palette[1]"),
    ("colour type ordinal", spec(color={"type": "ordinal"}), "color.type"),
    ("colour value not a colour", spec(color={"value": "notacolour"}), "color.value"),
    ("colour limits empty", spec(color={"limits": []}), "color.limits"),
    ("colour limits mixed", spec(color={"limits": ["a", 1]}), "color.limits[1]"),
    ("continuous with a discrete palette",
     with_color(mapping={"color": "v"}, color={"type": "continuous", "palette": "set2"}),
     "color.palette"),
    ("no data", '{"width": 400}', "data"),
    ("data empty array", spec(data=[]), "data"),
    ("data empty object", spec(data={}), "data"),
    ("data a string", spec(data="rows"), "data"),
    # the message says data[0], the path only "data"
    ("data rows of numbers", spec(data=[1, 2]), "data"),
    ("data cell a boolean", spec(data=[{"x": 1, "y": True}]), "data[0].y"),
    ("data cell an array", spec(data=[{"x": [1], "y": 2}]), "data[0].x"),
    ("data column not an array", spec(data={"x": 1, "y": [1]}), "data"),
    ("data column empty", spec(data={"x": [], "y": []}), "data"),
    ("data column mixed types", spec(data={"x": [1, 2], "y": [1, "2"]}), "data.y[1]"),
    ("mapping unknown aesthetic", spec(mapping={"shape": "x"}), "mapping.shape"),
    ("mapping a number", spec(mapping={"x": 1}), "mapping.x"),
    ("mapping x null", spec(mapping={"x": None}), "mapping.x"),
    ("no x column", spec(data={"a": [1], "y": [2]}), "mapping.x"),
    ("no y column in any row", spec(data=[{"x": 1}, {"x": 2, "z": 3}]), "mapping.y"),
    ("top level an array", '[{"x": 1, "y": 2}]', ""),
    # rejected while reading the JSON, before the schema: the loader does it
    ("number overflowing a double", '{"data": {"x": [1, 1e400], "y": [1, 2]}}',
     "data.x[1]"),
    ("number of 64 characters", '{"data": {"x": [1.' + "0" * 62 + '], "y": [1]}}', "data"),
    ("NaN literal", '{"data": {"x": [NaN], "y": [1]}}', ""),
    ("duplicate member", '{"width": 800, "width": 600, "data": {"x": [1], "y": [1]}}',
     ""),
]


# --- schema vs the parser's tables ----------------------------------------

def pointer(schema, path):
    node = schema
    for part in path.split("/"):
        node = node[part]
    return node


def resolve(schema, node):
    while "$ref" in node:
        node = pointer(schema, node["$ref"].lstrip("#/"))
    return node


def parser_tables(source):
    """{function or table name: [names]} from bubble_spec.c."""
    tables = {}
    func = None
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(bubble_spec_\w+)\(", line)
        if m:
            func = m.group(1)
        m = re.search(r"(?:bubble_member_t|char)\s+\*?(\w+)\[\]\s*=\s*\{", line)
        if m:
            body = []
            while "};" not in lines[i]:
                body.append(lines[i])
                i += 1
            body.append(lines[i])
            text = "\n".join(body)
            names = re.findall(r'"([^"]+)"', text)
            key = m.group(1) if m.group(1).startswith("bubble_") else func
            tables[key] = names
        i += 1
    return tables


# Members the parser may already know that the schema leaves out on
# purpose until they are finished and documented (docs/spec.md "Not yet").
PENDING = {
}


def check_parser_agreement(schema, report):
    path = os.path.join(CORE, "bubble_spec.c")
    if not os.path.exists(path):
        report("parser tables", None, "skipped: %s not found" % path)
        return
    tables = parser_tables(open(path, encoding="utf-8").read())

    def props(node):
        return sorted(resolve(schema, node)["properties"])

    top = pointer(schema, "properties")
    expect = {
        "bubble_spec_top": sorted(top) ,
        "bubble_spec_font": props(top["font"]),
        "bubble_spec_axis": props(top["x"]),
        "bubble_spec_size_scale": props(top["size"]),
        "bubble_spec_color_scale": props(top["color"]),
        "bubble_spec_stroke": props(top["stroke"]),
        "bubble_spec_legend": props(top["legend"]),
        "bubble_aes_names": sorted(set(props(top["mapping"])) - {"colour"}),
    }
    enums = {
        "bubble_spec_format": top["format"]["enum"],
        "bubble_spec_theme": [t for t in top["theme"]["enum"] if t != "grey"],
        "bubble_spec_axis_scale": resolve(schema, top["x"])["properties"]["scale"]["enum"],
        "bubble_spec_size_type": resolve(schema, top["size"])["properties"]["type"]["enum"],
        "bubble_spec_color_type": resolve(schema, top["color"])["properties"]["type"]["enum"],
        "bubble_spec_legend_position":
            top["legend"]["properties"]["position"]["enum"],
    }
    for name, want in list(expect.items()) + list(enums.items()):
        got = tables.get(name)
        if name == "bubble_spec_top" and got is not None:
            got = got + ["data"]            # read by bubble_json.c itself
        if got is None:
            report("parser table %s" % name, False, "not found in bubble_spec.c")
            continue
        pending = PENDING.get(name, set())
        for member in sorted(pending & (set(got) - set(want))):
            report("parser table %s: %s" % (name, member), None,
                   "pending: in the parser, not yet in the schema")
        got = [g for g in got if g not in pending]
        want = [w for w in want if w not in pending]
        ok = sorted(got) == sorted(want)
        report("parser table %s" % name, ok,
               "" if ok else "parser %s, schema %s" % (sorted(got), sorted(want)))

    # the parser's error message lists the palettes it knows
    source = re.sub(r'"\s*"', "", open(path, encoding="utf-8").read())  # "a" "b" -> "ab"
    m = re.search(r'unknown palette[^(]*\(([^)]*)\)', source)
    if m:
        palettes = [p.strip() for p in m.group(1).split(",")]
        pal = resolve(schema, top["color"])["properties"]["palette"]["oneOf"][0]["pattern"]
        bad = [p for p in palettes if not re.search(pal, p) or not re.search(pal, p.upper())]
        report("palette names", not bad, "not in the schema: %s" % bad if bad else "")
        report("palette pattern refuses others", not re.search(pal, "rainbow"), "")


def check_colour_names(schema, report):
    colour = pointer(schema, "$defs/colour")
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"],
                                                 "$ref": "#/$defs/colour"})
    header = os.path.join(CORE, "bubble_color_names.h")
    if not os.path.exists(header):
        report("colour names", None, "skipped: %s not found" % header)
        return
    names = re.findall(r'\{ "([a-z]+)", 0x', open(header, encoding="utf-8").read())
    bad = [n for n in names
           for v in (n, n.upper(), n.capitalize()) if not validator.is_valid(v)]
    report("colour names of bubble_color_names.h (%d)" % len(names), not bad,
           "refused by the schema: %s" % bad[:10] if bad else "")
    pattern = colour["anyOf"][2]["pattern"]
    listed = set(re.findall(r"\[([A-Z])[a-z]\]", pattern))   # sanity only
    others = ["notacolour", "grey101", "gray1000", "red ", " red", "#12345",
              "#1234567", "#ggg", "", "steelblue3", "transparent2"]
    wrong = [o for o in others if validator.is_valid(o)]
    report("colour pattern refuses non-colours", not wrong and bool(listed),
           "accepted: %s" % wrong if wrong else "")


# --- the module, optionally -----------------------------------------------

def post(url, text):
    req = urllib.request.Request(url + "/chart.png", data=text.encode("utf-8"),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# --- main -----------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", metavar="URL",
                    help="also POST every case to a running module")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    schema = json.load(open(SCHEMA, encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    counts = {"passed": 0, "failed": 0, "skipped": 0}

    def report(name, ok, detail=""):
        key = "skipped" if ok is None else "passed" if ok else "failed"
        counts[key] += 1
        if ok is not True or args.verbose:
            print("%-4s %s%s" % ({"passed": "ok", "failed": "FAIL",
                                  "skipped": "skip"}[key], name,
                                 (": " + detail) if detail else ""))

    def errors_of(text):
        try:
            doc = load_spec(text)
        except (SpecJSONError, ValueError) as e:
            return ["JSON: %s" % e]
        return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)",
                            e.message[:160])
                for e in validator.iter_errors(doc)]

    files = sorted(glob.glob(os.path.join(ROOT, "examples", "*.json")))
    files += sorted(glob.glob(os.path.join(ROOT, "tests", "bench", "workloads", "*.json")))
    # the gallery's specs, written by the R client (docs/gallery/build.R)
    files += sorted(glob.glob(os.path.join(ROOT, "docs", "gallery", "*.json")))
    if not glob.glob(os.path.join(ROOT, "examples", "*.json")):
        report("examples/*.json exist", False, "none found")

    valid = [(os.path.relpath(f, ROOT), open(f, encoding="utf-8").read()) for f in files]
    valid += [("valid: " + n, t) for n, t in VALID]

    for name, text in valid:
        errs = errors_of(text)
        report(name, not errs, "; ".join(errs[:3]))

    for case in INVALID:
        name, text = case[0], case[1]
        errs = errors_of(text)
        report("invalid: " + name, bool(errs),
               "accepted by the schema" if not errs else errs[0])

    check_parser_agreement(schema, report)
    check_colour_names(schema, report)

    if args.against:
        url = args.against.rstrip("/")
        for name, text in valid:
            status, body = post(url, text)
            report("module renders " + name, status == 200,
                   "%d %s" % (status, body[:200].decode("utf-8", "replace")))
        for case in INVALID:
            name, text, path = case[0], case[1], case[2]
            want = case[3] if len(case) > 3 else 400
            status, body = post(url, text)
            try:
                err = json.loads(body)
            except ValueError:
                err = {}
            ok = status == want and (err.get("path") == path or path == "")
            report("module refuses " + name, ok,
                   "%d %s (want %d, path %r)" % (status, body[:200].decode("utf-8", "replace").strip(),
                                                 want, path))

    print("schema: %d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"],
                                                         counts["skipped"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
