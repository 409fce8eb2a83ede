#!/usr/bin/perl
# Errors: every refusal is a JSON body {"error", "message", "path",
# "offset"} with the right status (400 invalid_json / invalid_spec, 413
# too_large, 415, 405), limits are configurable per location and
# inherited, and no bad input crashes a worker.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;

require_module();

my $ngx = start_nginx(server_conf => q{
    location /chart        { bubble; }
    location /small/       { bubble; bubble_max_body_size 1k; }
    location /big/         { bubble; bubble_max_body_size 2m; }
    location /fewpoints/   { bubble; bubble_max_points 100; }
    location /exactpoints/ { bubble; bubble_max_points 30; }
    location /fewpixels/   { bubble; bubble_max_pixels 1m; }
    location /exactpixels/ { bubble; bubble_max_pixels 480000; }
});

my $w1 = bench_spec('w1');
my $w2 = bench_spec('w2');

sub w1_with {
    my (%set) = @_;
    my $s = json_decode($w1);
    @$s{ keys %set } = values %set;
    return json_encode($s);
}

sub is_integer { defined $_[0] && !ref $_[0] && $_[0] =~ /^\d+$/ }

# A small valid spec (~60 bytes), with fields changed.
sub small {
    my (%set) = @_;
    my $s = { width => 200, height => 150,
              data => [ { x => 1, y => 2 }, { x => 2, y => 3 },
                        { x => 3, y => 1 } ] };
    @$s{ keys %set } = values %set;
    return json_encode($s);
}

# Positive control: a small spec renders.
my $r = post_chart('/chart.png', small());
is($r->{status}, 200, 'small valid spec renders (control)');
ok(png_info($r->{body})->{valid}, 'control is a valid PNG');

# --- invalid_json ----------------------------------------------------------

{
    my $cut = 5000;
    $r = post_chart('/chart.png', substr($w1, 0, $cut));
    my $j = json_error_ok($r, 400, 'invalid_json', 'W1 truncated at 5000');
    ok(is_integer($j->{offset}), 'truncated: "offset" is an integer')
        or diag('offset: ' . ($j->{offset} // 'undef'));
    ok(is_integer($j->{offset}) && $j->{offset} > $cut - 100
       && $j->{offset} <= $cut,
       "truncated: offset near the end of the body ($cut)")
        or diag('offset: ' . ($j->{offset} // 'undef'));
}

{
    my $valid = '{"width":200,"height":150,"data":[{"x":1,"y":2}]}';
    my $body = "$valid xyz";
    $r = post_chart('/chart.png', $body);
    my $j = json_error_ok($r, 400, 'invalid_json', 'trailing garbage');
    ok(is_integer($j->{offset}) && $j->{offset} >= length($valid)
       && $j->{offset} <= length($body),
       'trailing garbage: offset at or after the end of the document ('
       . length($valid) . '..' . length($body) . ')')
        or diag('offset: ' . ($j->{offset} // 'undef'));
}

{
    my $body = '{"width": 200, "height": @, "data": [{"x": 1, "y": 2}]}';
    my $p = index($body, '@');
    $r = post_chart('/chart.png', $body);
    my $j = json_error_ok($r, 400, 'invalid_json', 'invalid character');
    ok(is_integer($j->{offset}) && $j->{offset} >= $p
       && $j->{offset} <= $p + 1,
       "invalid character: offset is where the '\@' is ($p or " . ($p + 1)
       . ')')
        or diag('offset: ' . ($j->{offset} // 'undef'));
}

{
    $r = post_chart('/chart.png', '');
    my $j = json_error_ok($r, 400, 'invalid_json', 'empty body');
    is($j->{offset}, 0, 'empty body: offset 0') if $j;
}

{
    # A W1 body split across the request buffer and sent in pieces: the
    # offset counts from the start of the body, not of the last buffer.
    my $body = $w1;
    my $p = rindex($body, '}');         # the closing brace of the document
    substr($body, $p, 1) = '#';
    my @parts = (substr($body, 0, 7000), substr($body, 7000));
    $r = post_chart('/chart.png', $body, parts => \@parts, delay => 0.2);
    my $j = json_error_ok($r, 400, 'invalid_json',
                          'syntax error near the end of a slow W1');
    ok(is_integer($j->{offset}) && $j->{offset} >= $p
       && $j->{offset} <= $p + 1,
       "slow body: offset counts from the body start ($p or " . ($p + 1)
       . ')')
        or diag('offset: ' . ($j->{offset} // 'undef'));
}

{
    # Deep nesting: yajl has no depth limit of its own.
    my $n = 100000;
    my $body = '{"width":' . ('[' x $n) . (']' x $n) . '}';
    $r = post_chart('/chart.png', $body, timeout => 60);
    ok(defined $r->{status} && ($r->{status} == 400 || $r->{status} == 413),
       "nesting $n deep: 400 or 413")
        or diag('status: ' . ($r->{status} // 'none'));
    json_error_ok($r, $r->{status} // 400, undef, 'deep nesting');
}

{
    # Raw bytes \xff \xfe are never valid UTF-8.
    my $body = '{"title":"bad ' . "\xff\xfe" . ' utf-8","data":[{"x":1,"y":2}]}';
    $r = post_chart('/chart.png', $body);
    my $j = json_error_ok($r, 400, undef, 'invalid UTF-8 in a string');
    like($j->{error} // '', qr/^invalid_(json|spec)$/,
         'invalid UTF-8: invalid_json or invalid_spec') if $j;
}

# --- invalid_spec ----------------------------------------------------------

sub spec_error {
    my ($path_url, $body, $want_path, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $res = post_chart($path_url, $body);
    my $j = json_error_ok($res, 400, 'invalid_spec', $desc);
    if (defined $want_path) {
        if (ref $want_path) {
            like($j ? $j->{path} // '' : '', $want_path, "$desc: path");
        } else {
            is($j ? $j->{path} : undef, $want_path,
               "$desc: path is \"$want_path\"");
        }
    }
    return $j;
}

spec_error('/chart.png', small(width => 'abc'), 'width', 'width "abc"');
spec_error('/chart.png', small(width => 0), 'width', 'width 0');
spec_error('/chart.png', small(height => -5), 'height', 'height -5');
spec_error('/chart.png', small(scale => 10), 'scale', 'scale 10 (max 4)');
spec_error('/chart.png', small(format => 'gif'), 'format', 'format "gif"');
spec_error('/chart.png', '[1,2,3]', undef, 'top level is an array');

spec_error('/chart.png',
    small(data => [ { x => 1, y => 2 }, { x => 'abc', y => 3 },
                    { x => 3, y => 4 } ]),
    'data[1].x', 'row form: data[1].x is a string in a numeric column');

{
    my $j = spec_error('/chart.png',
        small(data => [ { x => 1, y => 2 }, { x => 2, y => 3 },
                        { x => 3, y => 4 }, { x => 4, y => 'high' } ]),
        'data[3].y', 'row form: data[3].y is a string');
    like($j->{message} // '', qr/data\[3\]\.y/,
         'message names the field too') if $j;
}

spec_error('/chart.png',
    small(data => { x => [1, 'abc', 3], y => [1, 2, 3] }),
    qr/^data(?:\.x\[1\]|\[1\]\.x)$/,
    'column form: x[1] is a string');

spec_error('/chart.png',
    small(mapping => { x => 'nope' }), 'mapping.x',
    'mapping.x names a column that does not exist');

spec_error('/chart.png',
    small(mapping => { y => 'nope' }), 'mapping.y',
    'mapping.y names a column that does not exist');

spec_error('/chart.png',
    small(data => [ { a => 1, y => 2 }, { a => 2, y => 3 } ]), undef,
    'no x column and no x mapping');

spec_error('/chart.png', small(data => []), qr/^data/, 'empty data (rows)');
spec_error('/chart.png', small(data => { x => [], y => [] }), qr/^data/,
           'empty data (columns)');
spec_error('/chart.png',
    small(data => { x => [1, 2, 3], y => [1, 2] }), qr/^data/,
    'columns of unequal length');
spec_error('/chart.png', json_encode({ width => 200, height => 150 }),
           'data', 'no data at all');

# --- too_large: body -------------------------------------------------------

$r = post_chart('/small/chart.png', small());
is($r->{status}, 200, 'body under bubble_max_body_size 1k renders')
    or diag($r->{body});

$r = post_chart('/small/chart.png', $w1);
json_error_ok($r, 413, 'too_large', 'W1 (15 KB) over bubble_max_body_size 1k');

$r = post_chart('/small/chart.png', $w1, chunked => 512);
json_error_ok($r, 413, 'too_large',
              'chunked W1 over bubble_max_body_size 1k');

{
    # Default bubble_max_body_size is 1m: W1 padded with JSON whitespace.
    (my $head = $w1) =~ s/\}\s*\z//;
    my $pad = ' ' x (1024 * 1024 + 100 - length $w1);
    my $over = $head . $pad . '}';
    ok(length($over) > 1024 * 1024, 'padded W1 is over 1m');
    $r = post_chart('/chart.png', $over);
    json_error_ok($r, 413, 'too_large',
                  'body over the default bubble_max_body_size (1m)');

    # bubble_max_body_size 2m accepts 1.5 MB (nginx's client_max_body_size
    # default is 1m: the module must not leave its limit to that one).
    my $mid = $head . (' ' x (1536 * 1024 - length $w1)) . '}';
    $r = post_chart('/big/chart.png', $mid, timeout => 60);
    is($r->{status}, 200, '1.5 MB body under bubble_max_body_size 2m: 200')
        or diag('got ' . ($r->{status} // 'none') . ': '
                . substr($r->{body} // '', 0, 200));
}

# --- too_large: points -----------------------------------------------------

$r = post_chart('/fewpoints/chart.png', $w1);
json_error_ok($r, 413, 'too_large', 'W1 (142 points) over bubble_max_points 100');

$r = post_chart('/fewpoints/chart.png', $w2);
is($r->{status}, 200, 'W2 (30 points) under bubble_max_points 100');

$r = post_chart('/exactpoints/chart.png', $w2);
is($r->{status}, 200, 'W2 (30 points) at bubble_max_points 30: allowed');

{
    my $s = json_decode($w2);
    push @{ $s->{data}{$_} }, 1 for keys %{ $s->{data} };
    $r = post_chart('/exactpoints/chart.png', json_encode($s));
    json_error_ok($r, 413, 'too_large', '31 points over bubble_max_points 30');
}

# --- too_large: pixels -----------------------------------------------------

$r = post_chart('/fewpixels/chart.png', $w1);
is($r->{status}, 200, 'W1 800x600 under bubble_max_pixels 1m');

$r = post_chart('/fewpixels/chart.png', w1_with(scale => 2));
json_error_ok($r, 413, 'too_large',
              'W1 at scale 2 (1600x1200) over bubble_max_pixels 1m');

$r = post_chart('/exactpixels/chart.png', $w1);
is($r->{status}, 200, 'W1 800x600 at bubble_max_pixels 480000: allowed');

$r = post_chart('/exactpixels/chart.png', w1_with(height => 601));
json_error_ok($r, 413, 'too_large', '800x601 over bubble_max_pixels 480000');

$r = post_chart('/chart.png', small(width => 4097, height => 4096));
json_error_ok($r, 413, 'too_large',
              '4097x4096 over the default bubble_max_pixels (16m)');

$r = post_chart('/chart.png', small(width => 3000, height => 3000, scale => 2));
json_error_ok($r, 413, 'too_large',
              '3000x3000 at scale 2 over the default bubble_max_pixels');

# --- 415, 405 --------------------------------------------------------------

for my $ct ('text/plain', 'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x') {
    $r = post_chart('/chart.png', $w2, headers => { 'Content-Type' => $ct });
    json_error_ok($r, 415, undef, "Content-Type $ct");
}

for my $m (qw(PUT DELETE PATCH)) {
    $r = http_request($m, '/chart.png', body => $w2,
                      headers => { 'Content-Type' => 'application/json' });
    json_error_ok($r, 405, undef, "$m");
}

# --- inherited limits (http and server level) -------------------------------

{
    my $n2 = start_nginx(
        http_conf   => 'bubble_max_points 100;',
        server_conf => q{
            bubble_max_pixels 1m;
            location /chart       { bubble; }
            location /override/   { bubble; bubble_max_points 1000;
                                    bubble_max_pixels 2m; }
        });
    $r = $n2->post_chart('/chart.png', $w1);
    json_error_ok($r, 413, 'too_large',
                  'bubble_max_points 100 at http level reaches the location');
    $r = $n2->post_chart('/chart.png', w1_with(scale => 2));
    json_error_ok($r, 413, 'too_large',
                  'bubble_max_pixels 1m at server level reaches the location');
    $r = $n2->post_chart('/override/chart.png', w1_with(scale => 2));
    is($r->{status}, 200, 'location-level limits override inherited ones');
    is_deeply([error_log_crashes($n2)], [], 'second server: no crashes');
}

# --- still alive ------------------------------------------------------------

$r = $ngx->post_chart('/chart.png', $w2);
is($r->{status}, 200, 'after all errors, W2 still renders');
is_deeply([error_log_crashes($ngx)], [], 'no worker exited on a signal');

done_testing();
