#!/usr/bin/perl
# Malformed input through real nginx: a table of distinct bad requests
# (JSON syntax, invalid UTF-8, wrong types for every field, bad data tables,
# overflowing numbers, sizes and limits, content types, chunked and slow
# bodies, oversized bodies, broken chart URLs).  Each case is one subtest:
# a 4xx answer with docs/spec.md's JSON error ({"error", "message", "path",
# "offset"}), the field's path or the byte offset where it applies.  Then
# text safety: hostile labels come back escaped in SVG, which references
# nothing outside itself.  At the end no worker exited on a signal.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Compress::Zlib ();
use MIME::Base64 ();
use BubbleTest;

require_module();

my $ngx = start_nginx(server_conf => q{
    location /chart        { bubble; }
    location /small/       { bubble; bubble_max_body_size 1k; }
    location /big/         { bubble; bubble_max_body_size 4m;
                             client_max_body_size 8m; }
    location /fewpoints/   { bubble; bubble_max_points 100; }
    location /fewpixels/   { bubble; bubble_max_pixels 1m; }
    location /shorturl/    { bubble; bubble_max_url_length 1k; }
});

my $w1 = bench_spec('w1');

# A small valid spec with fields set (undef deletes one), as canonical JSON.
sub small {
    my (%set) = @_;
    my $s = { width => 200, height => 150,
              data => [ { x => 1, y => 2, size => 3, label => 'a' },
                        { x => 2, y => 3, size => 1, label => 'b' },
                        { x => 3, y => 1, size => 2, label => 'c' } ] };
    for my $k (keys %set) {
        if (defined $set{$k}) { $s->{$k} = $set{$k} } else { delete $s->{$k} }
    }
    return json_encode($s);
}

# The same with raw JSON text for one member (for literals JSON::PP will
# not write: NaN, 1e400, bad bytes).  $raw replaces the value of $key.
sub small_raw {
    my ($key, $raw) = @_;
    my $body = small($key => '@@RAW@@');
    $body =~ s/"\@\@RAW\@\@"/$raw/ or die "small_raw: $key";
    return $body;
}

# Raw member inside a sub-object: {"x": {<member>: <raw>}}.
sub nested_raw {
    my ($obj, $member, $raw) = @_;
    return small_raw($obj, qq({"$member":$raw}));
}

my @cases;

# case(name, status => 400, error => 'invalid_json', path => ...,
#      offset => [lo, hi] | 'int', body => ..., url => ..., method => ...,
#      headers => {...}, opts => {...}, raw => $bytes)
sub case {
    my ($name, %c) = @_;
    push @cases, { name => $name, %c };
}

# --- JSON syntax: W1 truncated at 40 points ---------------------------------

{
    my $len = length $w1;
    my %seen;
    for my $k (1 .. 40) {
        my $cut = int($k * ($len - 1) / 41);
        next if $seen{$cut}++;
        case("W1 truncated at byte $cut of $len",
             body => substr($w1, 0, $cut), error => 'invalid_json',
             offset => [$cut > 64 ? $cut - 64 : 0, $cut]);
    }
    # and at the syntactic edges
    my $key = index($w1, '"title"');
    my $num = index($w1, '151120958');
    my $str = index($w1, 'Country 000');
    for my $cut (1, $key + 3, $key + 7, $key + 8, $num + 4, $str + 5,
                 $len - 1) {
        next if $seen{$cut}++;
        case("W1 truncated at byte $cut (inside a token or the last brace)",
             body => substr($w1, 0, $cut), error => 'invalid_json',
             offset => [$cut > 64 ? $cut - 64 : 0, $cut]);
    }
}

case('empty body', body => '', error => 'invalid_json', offset => [0, 0]);
case('only whitespace', body => " \n\t ", error => 'invalid_json',
     offset => [0, 4]);

# --- JSON syntax: trailing garbage ------------------------------------------

{
    my $valid = small();
    my $n = length $valid;
    for my $t ([ 'a word', ' xyz' ], [ 'a second object', ' {}' ],
               [ 'a closing brace', '}' ], [ 'an array', '[1]' ],
               [ 'a NUL byte', "\0" ], [ 'a comma', ',' ],
               [ 'a line comment', ' // c' ], [ 'a block comment', '/* c */' ])
    {
        case("trailing garbage: $t->[0]", body => $valid . $t->[1],
             error => 'invalid_json', offset => [$n - 1, $n + length $t->[1]]);
    }
}

case('a comment before the document', body => '/* c */' . small(),
     error => 'invalid_json', offset => [0, 2]);
case('single-quoted strings', body => q({'width':200,'data':[]}),
     error => 'invalid_json', offset => [0, 2]);
case('unquoted member name', body => '{width:200}', error => 'invalid_json',
     offset => [0, 2]);
case('a trailing comma in an object', body => '{"width":200,}',
     error => 'invalid_json', offset => [12, 14]);
case('a trailing comma in an array',
     body => '{"data":[{"x":1,"y":2},]}', error => 'invalid_json',
     offset => [22, 24]);
case('a missing colon', body => '{"width" 200}', error => 'invalid_json',
     offset => [8, 12]);

# --- JSON syntax: byte order marks -------------------------------------------

case('UTF-8 BOM before the document', body => "\xEF\xBB\xBF" . small(),
     error => 'invalid_json', offset => [0, 1]);
{
    (my $u16 = small()) =~ s/(.)/$1\0/gs;
    case('UTF-16LE with a BOM', body => "\xFF\xFE$u16",
         error => 'invalid_json', offset => [0, 1]);
    (my $u16be = small()) =~ s/(.)/\0$1/gs;
    case('UTF-16BE with a BOM', body => "\xFE\xFF$u16be",
         error => 'invalid_json', offset => [0, 1]);
}

# --- JSON syntax: duplicate member names -------------------------------------

for my $d (
    [ 'width twice', '{"width":200,"width":300,"data":[{"x":1,"y":2}]}' ],
    [ 'data twice', '{"data":[{"x":1,"y":2}],"data":[{"x":1,"y":2}]}' ],
    [ 'x.title twice', '{"x":{"title":"a","title":"b"},"data":[{"x":1,"y":2}]}' ],
    [ 'mapping.x twice', '{"mapping":{"x":"x","x":"y"},"data":[{"x":1,"y":2}]}' ],
    [ 'font.size twice', '{"font":{"size":9,"size":10},"data":[{"x":1,"y":2}]}' ],
    [ 'legend.position twice',
      '{"legend":{"position":"top","position":"left"},"data":[{"x":1,"y":2}]}' ],
    [ 'a row naming x twice', '{"data":[{"x":1,"y":2},{"x":1,"x":2,"y":3}]}' ],
    [ 'a column given twice', '{"data":{"x":[1],"y":[2],"x":[3]}}' ],
) {
    case("duplicate member: $d->[0]", body => $d->[1],
         error => 'invalid_spec', offset => 'int');
}

# --- JSON syntax: number literals JSON does not have --------------------------

for my $lit ('NaN', '-NaN', 'nan', 'Infinity', '-Infinity', 'inf', '+1',
             '.5', '1.', '0x10', '1e', '1e+', '-', '--1', '1.5.2', 'true1') {
    my $body = small_raw(width => $lit);
    my $at = index($body, $lit);
    case("number literal $lit", body => $body, error => 'invalid_json',
         offset => [$at, $at + length($lit) + 1]);
}
{
    my $body = '{"data":[{"x":NaN,"y":2}]}';
    case('NaN in a data cell', body => $body, error => 'invalid_json',
         offset => [14, 16]);
    $body = '{"data":{"x":[1,Infinity],"y":[1,2]}}';
    case('Infinity in a column', body => $body, error => 'invalid_json',
         offset => [16, 18]);
}

# --- JSON syntax: 10 000 levels of nesting ------------------------------------

{
    my $n = 10000;
    case('10000 nested arrays in title',
         body => '{"title":' . ('[' x $n) . (']' x $n) . '}',
         error => 'invalid_json');
    case('10000 nested objects in x',
         body => '{"x":' . ('{"a":' x $n) . '1' . ('}' x $n) . '}',
         error => 'invalid_json');
    case('10000 nested arrays in a data cell',
         body => '{"data":[{"x":' . ('[' x $n) . (']' x $n) . ',"y":1}]}',
         status => 400, path => 'data[0].x');
    case('10000 nested arrays at the top level',
         body => ('[' x $n) . (']' x $n), status => 400);
    case('10000 unclosed arrays', body => '{"title":' . ('[' x $n),
         error => 'invalid_json');
}

# --- JSON syntax: escapes and surrogates --------------------------------------

for my $e (
    [ 'a lone high surrogate at the end', '"\ud800"' ],
    [ 'a high surrogate and a letter', '"\ud800x"' ],
    [ 'a high surrogate and a non-surrogate escape', '"\ud800\u0041"' ],
    [ 'two high surrogates', '"\ud800\udbff"' ],
    [ 'a lone low surrogate', '"\udc00"' ],
    [ 'a reversed pair', '"\udfff\ud800"' ],
    [ 'an unknown escape \x', '"\x41"' ],
    [ 'a short \u escape', '"\u12"' ],
    [ 'a non-hex \u escape', '"\u00zz"' ],
    [ 'a raw control character', qq("a\x01b") ],
    [ 'a raw newline', qq("a\nb") ],
) {
    my $body = small_raw(title => $e->[1]);
    my $at = index($body, $e->[1]);
    case("title: $e->[0]", body => $body, error => 'invalid_json',
         offset => [$at, $at + length $e->[1]]);
}
case('U+0000 escaped in a string', body => small_raw(title => '"a\u0000b"'),
     error => 'invalid_spec', path => 'title');
case('U+0000 escaped in a member name',
     body => '{"width\u0000":200,"data":[{"x":1,"y":2}]}',
     error => 'invalid_spec', offset => 'int');
case('U+0000 escaped in an enum value', body => small_raw(format => '"svg\u0000x"'),
     error => 'invalid_spec', path => 'format');
case('a lone surrogate in a member name',
     body => '{"wi\udc00dth":200,"data":[{"x":1,"y":2}]}',
     error => 'invalid_json', offset => [9, 11]);
case('a lone surrogate in a data cell',
     body => '{"data":[{"x":1,"y":2,"label":"\ud800"}]}',
     error => 'invalid_json', offset => [36, 38]);

# --- invalid UTF-8 in keys, values and titles ---------------------------------

{
    my %bytes = (
        'a stray FF'             => "\xFF",
        'a truncated 2-byte'     => "\xC3",
        'an overlong <'          => "\xC0\xBC",
        'an overlong 3-byte'     => "\xE0\x80\xBC",
        'a UTF-8 surrogate'      => "\xED\xA0\x80",
        'a code point > 10FFFF'  => "\xF4\x90\x80\x80",
        'a 5-byte sequence'      => "\xF8\x88\x80\x80\x80",
        'a lone continuation'    => "\x80",
    );
    my @where = (
        [ 'title',          sub { small_raw(title => qq("a$_[0]b")) }, 'title' ],
        [ 'subtitle',       sub { small_raw(subtitle => qq("$_[0]")) }, 'subtitle' ],
        [ 'caption',        sub { small_raw(caption => qq("x$_[0]")) }, 'caption' ],
        [ 'x.title',        sub { nested_raw('x', 'title', qq("$_[0]")) }, undef ],
        [ 'a member name',  sub { small_raw(theme => '"gray"') =~ s/"theme"/"th$_[0]eme"/r }, undef ],
        [ 'a nested member name', sub { nested_raw('y', "ti$_[0]tle", '"t"') }, undef ],
        [ 'a row\'s column name', sub { qq({"data":[{"x":1,"y":2,"l$_[0]":"a"}]}) }, undef ],
        [ 'a column name',  sub { qq({"data":{"x":[1],"y":[2],"$_[0]":[3]}}) }, undef ],
        [ 'a label cell',   sub { qq({"data":[{"x":1,"y":2,"label":"a$_[0]"}]}) }, 'data[0].label' ],
        [ 'a column cell',  sub { qq({"data":{"x":[1,2],"y":[2,3],"label":["a","$_[0]"]}}) }, 'data.label[1]' ],
        [ 'a mapping value', sub { nested_raw('mapping', 'label', qq("l$_[0]")) }, undef ],
        [ 'a palette name', sub { nested_raw('color', 'palette', qq("v$_[0]")) }, undef ],
        [ 'the font family', sub { nested_raw('font', 'family', qq("D$_[0]")) }, undef ],
        [ 'the format',     sub { small_raw(format => qq("png$_[0]")) }, 'format' ],
    );
    # every location with one kind of bad byte, every kind in the title
    my @kinds = sort keys %bytes;
    my $i = 0;
    for my $w (@where) {
        my $kind = $kinds[$i++ % @kinds];
        # yajl refuses bytes that start no sequence (offset, no path); the
        # parser refuses the rest, with the field's path where it knows it
        case("invalid UTF-8 ($kind) in $w->[0]",
             body => $w->[1]->($bytes{$kind}), error => 'invalid_json',
             path => defined $w->[2] ? qr/^(?:\Q$w->[2]\E)?\z/ : undef,
             offset => 'int');
    }
    for my $kind (@kinds) {
        next if $kind eq $kinds[0];   # already above, in the title
        case("invalid UTF-8 ($kind) in the caption",
             body => small_raw(caption => qq("c$bytes{$kind}c")),
             error => 'invalid_json', offset => 'int');
    }
}

# --- a wrong type for every field ---------------------------------------------

for my $t (
    # top level
    [ width      => '"800"' ], [ width => 'null' ], [ height => 'true' ],
    [ height     => '[600]' ], [ scale => '"2"' ], [ format => '1' ],
    [ format     => '"gif"' ], [ title => '5' ], [ subtitle => '[]' ],
    [ caption    => '{}' ], [ theme => '1' ], [ theme => '"blue"' ],
    [ background => '0' ], [ background => '"#12345"' ], [ font => '"Arial"' ],
    [ mapping    => '[]' ], [ mapping => '"x"' ], [ x => '"x"' ], [ y => '5' ],
    [ size       => '[]' ], [ color => '1' ], [ alpha => '"0.5"' ],
    [ alpha      => '2' ], [ stroke => '"black"' ], [ legend => '"right"' ],
    [ colour     => '{}', 'colour' ], [ dpi => '96', 'dpi' ],
) {
    my ($field, $raw, $path) = @$t;
    case("$field: $raw", body => small_raw($field, $raw),
         error => 'invalid_spec', path => $path // $field);
}
case('data: 5', body => small_raw(data => '5'), error => 'invalid_spec',
     path => 'data');
case('data: "rows"', body => small_raw(data => '"rows"'),
     error => 'invalid_spec', path => 'data');
case('data: true', body => small_raw(data => 'true'),
     error => 'invalid_spec', path => 'data');
case('data: null', body => small_raw(data => 'null'),
     error => 'invalid_spec', path => 'data');

for my $t (
    [ font    => family   => '1' ],      [ font    => size     => '"10"' ],
    [ font    => size     => '100' ],    [ font    => family   => '"a<b"' ],
    [ mapping => x        => '1' ],      [ mapping => y        => '[]' ],
    [ mapping => size     => 'true' ],   [ mapping => color    => '{}' ],
    [ mapping => label    => '5' ],      [ mapping => tooltip  => '[]' ],
    [ x       => title    => '1' ],      [ x       => scale    => '1' ],
    [ x       => scale    => '"log"' ],  [ x       => limits   => '"a"' ],
    [ x       => breaks   => '"a"' ],    [ x       => labels   => '5' ],
    [ x       => reverse  => '"yes"' ],  [ y       => title    => '[]' ],
    [ y       => scale    => 'true' ],   [ y       => limits   => '{}' ],
    [ y       => limits   => '[2,1]' ],  [ y       => reverse  => '1' ],
    [ y       => labels   => '"%d"' ],   [ size    => title    => '1' ],
    [ size    => type     => '1' ],      [ size    => range    => '"a"' ],
    [ size    => range    => '[1,600]' ], [ size   => limits   => 'true' ],
    [ size    => breaks   => '{}' ],     [ color   => title    => '1' ],
    [ color   => type     => '1' ],      [ color   => palette  => '1' ],
    [ color   => palette  => '"rainbow"' ], [ color => limits  => '"a"' ],
    [ color   => value    => '1' ],      [ stroke  => color    => '1' ],
    [ stroke  => width    => '"1"' ],    [ legend  => position => '1' ],
    [ x       => ticks    => '5' ],
) {
    my ($obj, $member, $raw) = @$t;
    case("$obj.$member: $raw", body => nested_raw($obj, $member, $raw),
         error => 'invalid_spec', path => "$obj.$member");
}
for my $t (
    [ x => limits => '[0,"1"]', 'x.limits[1]' ],
    [ x => breaks => '[1,"2"]', 'x.breaks[1]' ],
    [ color => palette => '["red",1]', 'color.palette[1]' ],
    [ color => palette => '["red","nocolour"]', 'color.palette[1]' ],
    [ size => range => '[1,"b"]', 'size.range[1]' ],
) {
    my ($obj, $member, $raw, $path) = @$t;
    case("$obj.$member: $raw", body => nested_raw($obj, $member, $raw),
         error => 'invalid_spec', path => $path);
}
case('x.labels: [1, 2] for breaks [1, 2]',
     body => small_raw(x => '{"breaks":[1,2],"labels":[1,2]}'),
     error => 'invalid_spec', path => 'x.labels[0]');
case('x.labels without breaks',
     body => small_raw(x => '{"labels":["a","b"]}'),
     error => 'invalid_spec', path => 'x');

# colours: "#" and more than 8 hex digits once overflowed an int[8] on the
# stack (a worker's SIGSEGV; found by tests/fuzz/fuzz_spec)
case('background: "#" and 30 hex digits',
     body => small_raw(background => '"#' . ('f' x 30) . '"'),
     error => 'invalid_spec', path => 'background');
case('stroke.color: "#" and 31 hex digits',
     body => nested_raw('stroke', 'color', '"#' . ('0' x 31) . '"'),
     error => 'invalid_spec', path => 'stroke.color');
case('color.value: "#" and 9 hex digits',
     body => nested_raw('color', 'value', '"#123456789"'),
     error => 'invalid_spec', path => 'color.value');
case('color.palette[0]: "#" and 20 hex digits',
     body => nested_raw('color', 'palette', '["#' . ('a' x 20) . '"]'),
     error => 'invalid_spec', path => 'color.palette[0]');

# --- the data table: mixed types, unequal columns, missing columns ------------

for my $t (
    [ 'rows: a string after numbers',
      '{"data":[{"x":1,"y":2},{"x":"abc","y":3}]}', 'data[1].x' ],
    [ 'rows: a number after strings',
      '{"data":[{"x":1,"y":2,"color":"a"},{"x":2,"y":3,"color":5}]}',
      'data[1].color' ],
    [ 'rows: a string after a null',
      '{"data":[{"x":1,"y":2},{"x":null,"y":3},{"x":"a","y":1}]}',
      'data[2].x' ],
    [ 'columns: a string among numbers',
      '{"data":{"x":[1,"a",3],"y":[1,2,3]}}', 'data.x[1]' ],
    [ 'columns: a number among strings',
      '{"data":{"x":[1,2],"y":[1,2],"label":["a",2]}}', 'data.label[1]' ],
    [ 'rows: a boolean cell', '{"data":[{"x":true,"y":2}]}', 'data[0].x' ],
    [ 'rows: an object cell', '{"data":[{"x":{"v":1},"y":2}]}', 'data[0].x' ],
    [ 'columns: an array cell', '{"data":{"x":[[1]],"y":[2]}}', 'data.x[0]' ],
    [ 'rows: a row that is a number', '{"data":[{"x":1,"y":2},3]}', 'data[1]' ],
    [ 'rows: a row that is an array', '{"data":[[1,2]]}', 'data[0]' ],
    [ 'columns: a column that is a number', '{"data":{"x":1,"y":[2]}}',
      qr/^data/ ],
    [ 'columns: a column that is an object', '{"data":{"x":{"a":1},"y":[2]}}',
      qr/^data/ ],
    [ 'columns: x longer than y', '{"data":{"x":[1,2,3],"y":[1,2]}}',
      'data.y' ],
    [ 'columns: y longer than x', '{"data":{"x":[1,2],"y":[1,2,3]}}',
      'data.y' ],
    [ 'columns: a shorter third column',
      '{"data":{"x":[1,2,3],"y":[1,2,3],"size":[1]}}', 'data.size' ],
    [ 'columns: an empty third column',
      '{"data":{"x":[1,2,3],"y":[1,2,3],"label":[]}}', 'data.label' ],
    [ 'mapping.x to a missing column',
      '{"mapping":{"x":"nope"},"data":[{"x":1,"y":2}]}', 'mapping.x' ],
    [ 'mapping.y to a missing column',
      '{"mapping":{"y":"nope"},"data":[{"x":1,"y":2}]}', 'mapping.y' ],
    [ 'mapping.size to a missing column',
      '{"mapping":{"size":"nope"},"data":[{"x":1,"y":2}]}', 'mapping.size' ],
    [ 'mapping.color to a missing column',
      '{"mapping":{"color":"nope"},"data":[{"x":1,"y":2}]}', 'mapping.color' ],
    [ 'mapping.label to a missing column',
      '{"mapping":{"label":"nope"},"data":[{"x":1,"y":2}]}', 'mapping.label' ],
    [ 'mapping.tooltip to a missing column',
      '{"mapping":{"tooltip":"nope"},"data":[{"x":1,"y":2}]}',
      'mapping.tooltip' ],
    [ 'mapping.x to a string column',
      '{"mapping":{"x":"n"},"data":[{"n":"a","y":2}]}', 'mapping.x' ],
    [ 'mapping.size to a string column',
      '{"mapping":{"size":"n"},"data":[{"x":1,"y":2,"n":"a"}]}',
      'mapping.size' ],
    [ 'mapping of an unknown aesthetic',
      '{"mapping":{"shape":"x"},"data":[{"x":1,"y":2}]}', 'mapping.shape' ],
    [ 'no x column and no mapping', '{"data":[{"a":1,"y":2}]}', 'mapping.x' ],
    [ 'no y column and no mapping', '{"data":[{"x":1,"b":2}]}', 'mapping.y' ],
    [ 'mapping.x unmapped with null',
      '{"mapping":{"x":null},"data":[{"x":1,"y":2}]}', 'mapping.x' ],
    [ 'empty data (rows)', '{"data":[]}', 'data' ],
    [ 'empty data (columns)', '{"data":{}}', 'data' ],
    [ 'empty columns', '{"data":{"x":[],"y":[]}}', 'data' ],
    [ 'rows without members', '{"data":[{},{}]}', qr/^(data|mapping\.x)$/ ],
    [ 'no data member', '{"width":200,"height":150}', 'data' ],
    [ 'all cells null', '{"width":200,"height":150,"data":{"x":[null],"y":[null]}}',
      undef ],
) {
    my ($name, $body, $path) = @$t;
    case("data: $name", body => $body, error => 'invalid_spec',
         path => $path);
}

# --- numbers that overflow ----------------------------------------------------

for my $t (
    [ 'a row cell 1e400', '{"data":[{"x":1e400,"y":2}]}', 'data[0].x' ],
    [ 'a column cell -1e400', '{"data":{"x":[1,2],"y":[1,-1e400]}}',
      'data.y[1]' ],
    [ 'a size cell 1e999', '{"data":[{"x":1,"y":2,"size":1e999}]}',
      'data[0].size' ],
    [ 'width 1e400', small_raw(width => '1e400'), undef ],
    [ 'scale 1e400', small_raw(scale => '1e400'), undef ],
    [ 'alpha -1e400', small_raw(alpha => '-1e400'), undef ],
    [ 'x.limits [0, 1e400]', nested_raw('x', 'limits', '[0,1e400]'), undef ],
    [ 'size.breaks [1e400]', nested_raw('size', 'breaks', '[1e400]'), undef ],
    [ 'font.size 1e999', nested_raw('font', 'size', '1e999'), undef ],
    [ 'a number of 80 digits', small_raw(width => '1' x 80), undef ],
    [ 'a cell of 80 digits', '{"data":[{"x":' . ('9' x 80) . ',"y":2}]}',
      qr/^data/ ],
) {
    my ($name, $body, $path) = @$t;
    case("overflow: $name", body => $body, error => 'invalid_spec',
         path => $path, offset => defined $path ? undef : 'int');
}

# --- width, height and scale --------------------------------------------------

for my $t (
    [ width => 0, 400 ], [ width => -1, 400 ], [ width => 15, 400 ],
    [ width => '100.5', 400 ], [ width => 99999999, 413 ],
    [ width => '1e9', 400 ],
    [ width => 16385, 413 ], [ height => 0, 400 ], [ height => -600, 400 ],
    [ height => '2.5', 400 ], [ height => '1e9', 400 ],
    [ height => '99999999999999999999', 413 ],
    [ scale => 0, 400 ], [ scale => -1, 400 ], [ scale => '0.5', 400 ],
    [ scale => 5, 400 ], [ scale => '1e9', 400 ],
) {
    my ($field, $v, $status) = @$t;
    case("$field $v", body => small_raw($field, $v), status => $status,
         error => $status == 413 ? 'too_large' : 'invalid_spec',
         path => $field);
}

# --- point counts and pixels over the limits ----------------------------------

{
    my $cols = sub {
        my ($n) = @_;
        my @v = map { $_ % 97 } 1 .. $n;
        return json_encode({ width => 200, height => 150,
                             data => { x => \@v, y => [ reverse @v ] } });
    };
    my $rows = sub {
        my ($n) = @_;
        return json_encode({ width => 200, height => 150,
                             data => [ map { { x => $_, y => $_ % 7 } }
                                       1 .. $n ] });
    };
    case('101 rows over bubble_max_points 100', url => '/fewpoints/chart.png',
         body => $rows->(101), status => 413, error => 'too_large');
    case('101 column values over bubble_max_points 100',
         url => '/fewpoints/chart.png', body => $cols->(101), status => 413,
         error => 'too_large');
    case('W1 (142 rows) over bubble_max_points 100',
         url => '/fewpoints/chart.png', body => $w1, status => 413,
         error => 'too_large');
    case('50001 rows over the default 50000', body => $cols->(50001),
         status => 413, error => 'too_large');
    case('4097 x 4096 over the default 16m pixels',
         body => small(width => 4097, height => 4096), status => 413,
         error => 'too_large');
    case('2000 x 2000 at scale 3 over 16m pixels',
         body => small(width => 2000, height => 2000, scale => 3),
         status => 413, error => 'too_large');
    case('1025 x 1024 over bubble_max_pixels 1m',
         url => '/fewpixels/chart.png',
         body => small(width => 1025, height => 1024), status => 413,
         error => 'too_large');
    case('4100 px wide at scale 4: a side over 16384 px',
         body => small(width => 4100, height => 16, scale => 4),
         status => 413, error => 'too_large');
    case('300 columns over the limit of 256',
         body => json_encode({ data => [ { x => 1, y => 2,
                                           map { ("c$_" => $_) } 1 .. 300 } ] }),
         status => 413, error => 'too_large');
}

# --- strings over the limit: 1 MB labels --------------------------------------

{
    my $mb = 'L' x (1024 * 1024);
    case('a 1 MB label (over the 64 KiB string limit)', url => '/big/chart.png',
         body => json_encode({ width => 200, height => 150,
                               data => [ { x => 1, y => 2, label => $mb } ] }),
         status => 413, error => 'too_large', opts => { timeout => 60 });
    case('a 1 MB title', url => '/big/chart.png',
         body => small(title => $mb), status => 413, error => 'too_large',
         opts => { timeout => 60 });
    case('a 100 KB tooltip', body => json_encode({ width => 200,
             height => 150, data => { x => [1], y => [2],
                                      tooltip => [ 'T' x 102400 ] } }),
         status => 413, error => 'too_large');
    case('a 2 KB member name', body => small_raw(title => '"t"')
             =~ s/"title"/'"' . ('k' x 2048) . '"'/er,
         status => 413, error => 'too_large');
    case('a 2 KB column name',
         body => '{"data":[{"x":1,"y":2,"' . ('c' x 2048) . '":3}]}',
         status => 413, error => 'too_large');
}

# --- Content-Type -------------------------------------------------------------

for my $ct ('text/plain', 'application/xml', 'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x', 'application/jsonp',
            'image/png', 'json', 'application/json-seq') {
    case("Content-Type $ct", body => small(), headers => { 'Content-Type' => $ct },
         status => 415, error => 'unsupported_media_type');
}

# --- chunked bodies -----------------------------------------------------------

{
    my $bad = small_raw(height => '@');
    my $at = index($bad, '@');
    case('chunked (8-byte chunks), a syntax error', body => $bad,
         opts => { chunked => 8 }, error => 'invalid_json',
         offset => [$at, $at + 1]);
    case('chunked (1-byte chunks), W1 truncated',
         body => substr($w1, 0, 3000), opts => { chunked => 1 },
         error => 'invalid_json', offset => [2936, 3000]);
    case('chunked, a wrong type', body => small_raw(width => '"wide"'),
         opts => { chunked => 16 }, error => 'invalid_spec', path => 'width');
    case('chunked, over bubble_max_body_size 1k', url => '/small/chart.png',
         body => $w1, opts => { chunked => 512 }, status => 413,
         error => 'too_large');
    case('chunked, over client_max_body_size 1m (nginx\'s own 413)',
         body => small(title => 'x' x 1100000), opts => { chunked => 65536,
                                                          timeout => 60 },
         status => 413, error => 'too_large');

    my $head = "POST /chart.png HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Connection: close\r\nContent-Type: application/json\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n";
    my $ok = small();
    my $n = sprintf '%x', length $ok;
    case('chunked framing: a chunk size that is not hex',
         raw => $head . "zz\r\n$ok\r\n0\r\n\r\n", status => 400,
         error => 'bad_request');
    case('chunked framing: no CRLF after a chunk',
         raw => $head . "$n\r\n${ok}XX0\r\n\r\n", status => 400,
         error => 'bad_request');
    case('chunked framing: a chunk size past 2^64',
         raw => $head . "fffffffffffffffffffff\r\n$ok\r\n0\r\n\r\n",
         status => 400, error => 'bad_request');
    case('chunked framing: a negative chunk size',
         raw => $head . "-5\r\n$ok\r\n0\r\n\r\n", status => 400,
         error => 'bad_request');
}

# --- slow bodies (valid framing, sent in pieces with pauses) -----------------

{
    my $body = $w1;
    my $p = rindex($body, '}');
    substr($body, $p, 1) = '#';
    case('slow W1 in 3 pieces, a syntax error at the end', body => $body,
         opts => { parts => [ substr($body, 0, 5000), substr($body, 5000, 5000),
                              substr($body, 10000) ], delay => 0.15 },
         error => 'invalid_json', offset => [$p, $p + 1]);

    my $spec = small_raw(alpha => '"opaque"');
    case('slow body, byte by byte, a wrong type', body => $spec,
         opts => { parts => [ split //, $spec ], delay => 0.002 },
         error => 'invalid_spec', path => 'alpha');

    my $big = substr($w1, 0, -1) . (' ' x 2000) . '}';
    case('slow body over bubble_max_body_size 1k', url => '/small/chart.png',
         body => $big, headers => { 'Content-Length' => undef },
         opts => { chunked => 700 }, status => 413, error => 'too_large');
    case('slow chunked body with a lone surrogate split across chunks',
         body => small_raw(title => '"ab\ud800cd"'),
         opts => { chunked => 3 }, error => 'invalid_json', offset => 'int');
}

# --- bodies over the limit ----------------------------------------------------

{
    my $huge = substr($w1, 0, -1) . (' ' x (1024 * 1024)) . '}';
    case('1 MB + W1 over the default bubble_max_body_size', body => $huge,
         status => 413, error => 'too_large', opts => { timeout => 60 });
    case('W1 over bubble_max_body_size 1k', url => '/small/chart.png',
         body => $w1, status => 413, error => 'too_large');
    case('1025 bytes over bubble_max_body_size 1k', url => '/small/chart.png',
         body => small(title => 'x' x 2000) =~ s/^(.{1024}).*$/$1 /sr,
         status => 413, error => 'too_large');
    my $head = "POST /chart.png HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Connection: close\r\nContent-Type: application/json\r\n";
    case('Content-Length 10 GB declared, nothing sent',
         raw => $head . "Content-Length: 10737418240\r\n\r\n", status => 413,
         error => 'too_large');
    case('Content-Length 5 MB declared on /big/ (4m)',
         raw => "POST /big/chart.png HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             . "Connection: close\r\nContent-Type: application/json\r\n"
             . "Content-Length: 5242880\r\n\r\n{", status => 413,
         error => 'too_large');
}

# --- GET chart URLs: broken base64, deflate, JSON ------------------------------

sub deflate_raw {
    my ($data) = @_;
    my ($d) = Compress::Zlib::deflateInit(-WindowBits => -15, -Level => 9);
    my ($out) = $d->deflate($data);
    my ($end) = $d->flush();
    return $out . $end;
}

sub b64url { MIME::Base64::encode_base64url($_[0]) }

{
    my $good = deflate_raw(small());
    case('compact URL: characters outside base64url',
         method => 'GET', url => '/chart/!!!!$$$$****.png', status => 400,
         error => 'invalid_url', path => 'spec');
    case('compact URL: standard base64 + instead of -',
         method => 'GET', url => '/chart/' . (b64url($good) =~ tr/-_/+~/r) . '.png',
         status => 400, error => 'invalid_url');
    {
        my $b = b64url($good);
        $b .= 'A' x ((1 - length($b) % 4) % 4);
        case('compact URL: a length of 1 mod 4', method => 'GET',
             url => "/chart/$b.png", status => 400, error => 'invalid_url');
    }
    case('compact URL: random bytes, not deflate', method => 'GET',
         url => '/chart/' . b64url(join '', map { chr(($_ * 97 + 13) % 256) }
                                        1 .. 64) . '.png',
         status => 400, error => 'invalid_url');
    case('compact URL: a truncated deflate stream', method => 'GET',
         url => '/chart/' . b64url(substr($good, 0, length($good) - 8)) . '.png',
         status => 400, error => 'invalid_url');
    case('compact URL: a zlib stream (header), not raw deflate', method => 'GET',
         url => '/chart/' . b64url(Compress::Zlib::compress(small())) . '.png',
         status => 400, error => 'invalid_url');
    case('compact URL: gzip, not raw deflate', method => 'GET',
         url => '/chart/' . b64url(Compress::Zlib::memGzip(small())) . '.png',
         status => 400, error => 'invalid_url');
    case('compact URL: deflate of invalid JSON', method => 'GET',
         url => '/chart/' . b64url(deflate_raw('{"width":200,')) . '.png',
         status => 400, error => 'invalid_json');
    case('compact URL: deflate of a wrong type', method => 'GET',
         url => '/chart/' . b64url(deflate_raw(small(width => 'w'))) . '.png',
         status => 400, error => 'invalid_spec', path => 'width');
    case('compact URL: a deflate bomb (3 MB of spaces)', method => 'GET',
         url => '/chart/' . b64url(deflate_raw('{' . (' ' x 3000000) . '}'))
             . '.png', status => 413, error => 'too_large');
    case('compact URL: invalid UTF-8 inside', method => 'GET',
         url => '/chart/' . b64url(deflate_raw(small_raw(title => "\"\xC0\xBC\"")))
             . '.png', status => 400, error => 'invalid_json');
    case('?spec=: invalid JSON', method => 'GET',
         url => '/chart.png?spec=%7B%22width%22%3A', status => 400,
         error => 'invalid_json');
    case('?spec=: broken percent-encoding', method => 'GET',
         url => '/chart.png?spec=%7B%zz%22', status => 400,
         error => 'invalid_json');
    case('?spec=: a wrong type', method => 'GET',
         url => '/chart.png?spec=%7B%22width%22%3A%22x%22%7D', status => 400,
         error => 'invalid_spec', path => 'width');
    case('?spec=: %00 inside a string', method => 'GET',
         url => '/chart.png?spec=%7B%22title%22%3A%22a%00b%22%7D',
         status => 400, error => 'invalid_json');
    case('?spec=: %FF inside a string', method => 'GET',
         url => '/chart.png?spec=%7B%22title%22%3A%22a%FFb%22%7D',
         status => 400, error => 'invalid_json');
    case('GET /chart.png without a spec', method => 'GET', url => '/chart.png',
         status => 400, error => 'invalid_spec', path => 'spec');
    case('GET with a 2 KB URL over bubble_max_url_length 1k', method => 'GET',
         url => '/shorturl/chart/' . ('A' x 2000) . '.png', status => 414,
         error => 'uri_too_long');
}

# ==========================================================================
# run the table

my %names;
my @dups = grep { $names{$_->{name}}++ } @cases;
is_deeply([ map { $_->{name} } @dups ], [], 'case names are distinct');
cmp_ok(scalar @cases, '>=', 200, 'at least 200 malformed cases ('
       . scalar(@cases) . ')');

my %bodies;
my @same = grep { defined $_->{body} && $bodies{($_->{url} // '') . "\0"
    . ($_->{body}) . "\0" . join(',', %{ $_->{opts} || {} }) . "\0"
    . join(',', map { $_ // 'undef' } %{ $_->{headers} || {} })}++ } @cases;
is_deeply([ map { $_->{name} } @same ], [],
          'no two cases send the same request')
    or diag('same request as an earlier case: '
            . join(', ', map { $_->{name} } @same));

sub run_case {
    my ($c) = @_;
    my $res;
    my %opts = %{ $c->{opts} || {} };

    if (defined $c->{raw}) {
        $res = raw_request($c->{raw}, timeout => 30);
    } elsif (($c->{method} // 'POST') eq 'GET') {
        $res = http_request('GET', $c->{url}, timeout => 30);
    } else {
        $res = post_chart($c->{url} // '/chart.png', $c->{body},
                          headers => $c->{headers} || {}, timeout => 30,
                          %opts);
    }

    my $status = $c->{status} // 400;
    my $j = json_error_ok($res, $status, $c->{error}, $c->{name});
    ok(!$res->{error}, 'a complete HTTP response')
        or diag($res->{error});
    like($res->{headers}{'cache-control'} // '', qr/no-store/,
         'Cache-Control: no-store');
    return unless $j;

    ok(exists $j->{path} && exists $j->{offset},
       'has "path" and "offset"');

    if (defined $c->{path}) {
        if (ref $c->{path}) {
            like($j->{path} // '', $c->{path}, 'path');
        } else {
            is($j->{path}, $c->{path}, "path is \"$c->{path}\"");
        }
    }

    my $off = $c->{offset};
    if (defined $off) {
        my $int = defined $j->{offset} && $j->{offset} =~ /^\d+\z/;
        ok($int, 'offset is an integer')
            or diag('offset: ' . ($j->{offset} // 'null'));
        if ($int && ref $off) {
            ok($j->{offset} >= $off->[0] && $j->{offset} <= $off->[1],
               "offset $j->{offset} within [$off->[0], $off->[1]]");
        }
    }

    # the message names the field it is about (docs/spec.md)
    if (defined $j->{path} && length $j->{path}
        && ($j->{error} // '') =~ /^invalid_(spec|json)$/)
    {
        like($j->{message}, qr/^\Q$j->{path}\E(?::|\z)/,
             'message starts with the path');
    }
}

for my $c (@cases) {
    subtest $c->{name} => sub { run_case($c) };
}

# ==========================================================================
# text safety: hostile strings come back escaped, the SVG refers to nothing

{
    my %hostile = (
        title    => '</text><script>alert(1)</script>',
        subtitle => 'Tom & Jerry <b>bold</b> "quoted" \'single\'',
        caption  => ']]><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>&e;',
    );
    my $spec = {
        %hostile, width => 480, height => 360,
        data => [
            { x => 1, y => 2, size => 3, color => '<img src=x onerror=alert(1)>',
              label => '</text><script>alert(2)</script>',
              tooltip => '"/><image href="http://evil.example/x.png"/>' },
            { x => 2, y => 1, size => 1, color => 'a&b',
              label => '<a href="javascript:alert(3)">x</a>',
              tooltip => "<style>\@import url(http://evil.example/s.css)</style>" },
            { x => 3, y => 3, size => 2, color => '&amp;',
              label => '&lt;already escaped&gt;',
              tooltip => '<svg onload=alert(4)><use xlink:href="#x"/>' },
        ],
        x => { title => '<x axis> & "more"' },
        y => { title => "<y axis>" },
        size => { title => '<size>' },
        color => { title => '<color & more>' },
    };
    my $r = post_chart('/chart.svg', $spec);
    is($r->{status}, 200, 'hostile labels: SVG renders');
    my $svg = $r->{body} // '';
    like($r->{headers}{'content-type'} // '', qr{^image/svg\+xml}, 'as SVG');

    # no hostile string appears raw; each appears escaped
    for my $s ('</text><script>', '<script>', '<img src', '<a href',
               '<image', '<style>', '<svg onload', '<use', '<!DOCTYPE',
               '<!ENTITY', '<b>', ']]>', '&e;') {
        unlike($svg, qr/\Q$s\E/, "SVG has no raw \"$s\"");
    }
    like($svg, qr/&lt;\/text&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/,
         'title escaped');
    like($svg, qr/Tom &amp; Jerry &lt;b&gt;bold&lt;\/b&gt;/,
         '& and < escaped in the subtitle');
    like($svg, qr/&amp;lt;already escaped&amp;gt;/,
         'an already-escaped label is escaped once more, not decoded');

    # markup: only our elements, no references outside the document
    my @tags = $svg =~ /(<[^>]*>)/g;
    ok(@tags > 10, 'SVG has markup');
    my %elements;
    for my $t (@tags) {
        $elements{$1}++ if $t =~ m{^</?([A-Za-z][\w:-]*)};
    }
    my @unexpected = grep { !/^(svg|title|rect|line|circle|text|g|desc)$/ }
                     sort keys %elements;
    is_deeply(\@unexpected, [], 'only svg, title, rect, line, circle, text '
              . '(and g, desc) elements')
        or diag(join ' ', @unexpected);
    my @refs = grep { /href|xlink|url\(|<image|<!DOCTYPE|<!ENTITY|<script|<use|<style|<foreignObject|\bon\w+=/i }
               @tags;
    is_deeply(\@refs, [], 'no href, xlink, url(, <image, DOCTYPE, ENTITY, '
              . 'script, style or event attribute in the markup')
        or diag(join "\n", @refs[0 .. ($#refs > 5 ? 5 : $#refs)]);

    # text between tags: no raw '<', every '&' an entity
    (my $text = $svg) =~ s/<[^>]*>//g;
    unlike($text, qr/&(?!(?:amp|lt|gt|quot|#39|apos);)/,
           'every & in text is an entity');

    # well-formed: tags balance
    my @stack;
    my $balanced = 1;
    for my $t (@tags) {
        next if $t =~ /^<\?/ || $t =~ m{/>$};
        if ($t =~ m{^</(\S+?)>$}) {
            my $open = pop @stack;
            $balanced = 0 unless defined $open && $open eq $1;
        } elsif ($t =~ /^<([A-Za-z][\w:-]*)/) {
            push @stack, $1;
        }
    }
    ok($balanced && !@stack, 'SVG tags are balanced');

    my $png = post_chart('/chart.png', $spec);
    is($png->{status}, 200, 'hostile labels: PNG renders too');
    ok(png_info($png->{body})->{valid}, 'a valid PNG');
}

# ==========================================================================
# regressions that answer 200: they once hung or crashed a worker

{
    # minor breaks near -1.8e308: v - step / 2 overflowed to -inf and the
    # loop never ended (a worker at 100% CPU; found by tests/fuzz/fuzz_render)
    my $spec = '{"width":480,"height":360,"data":{"x":[-1.7e+308,1.7e+304],'
        . '"y":[1e-308,-1e-318],"size":[1e+300,1e-300]}}';
    my $t0 = time;
    my $r = post_chart('/chart.svg', $spec, timeout => 20);
    ok(!$r->{timed_out} && time - $t0 < 10,
       'data near +-1.8e308: answered within 10 s');
    ok(defined $r->{status} && ($r->{status} == 200 || $r->{status} == 400),
       'data near +-1.8e308: 200 or 400')
        or diag('status: ' . ($r->{status} // 'none'));
}

{
    # a label format whose 31-byte labels end in half a "€": pango was
    # handed malformed UTF-8 and wrote a warning to error.log a request
    # (found by tests/fuzz/fuzz_render)
    my $spec = '{"width":200,"height":150,"x":{"labels":"%20f\\u20ac'
        . '\\u20ac\\u20ac\\u20ac\\u20ac"},'
        . '"data":[{"x":10,"y":2},{"x":963,"y":3}]}';
    for my $fmt (qw(png pdf svg)) {
        my $r = post_chart("/chart.$fmt", $spec);
        is($r->{status}, 200, "labels cut in a character: $fmt renders");
    }
    unlike(error_log_content($ngx), qr/Pango|Invalid UTF-8/,
           'and nothing in error.log from pango');
}

my $r = post_chart('/chart.png', small());
is($r->{status}, 200, 'after every malformed case, a small spec renders');

is_deeply([ error_log_crashes($ngx) ], [], 'no worker exited on a signal');
my @alerts = grep { /\[(alert|emerg|crit)\]/ } split /\n/,
             error_log_content($ngx);
is_deeply(\@alerts, [], 'no alert, crit or emerg in error.log');

done_testing();
