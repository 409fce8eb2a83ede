#!/usr/bin/perl
# Legacy Google Image Charts scatter URLs (cht=s): the parameters become a
# spec, rendered through the normal GET path.  PNGs of the chs size, SVGs
# with the title and one <circle> per point (plus one per legend entry),
# errors naming the parameter, and the same SVG as the equivalent JSON
# spec (the mapping, end to end).  See docs/legacy-google-charts.md.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;

require_module();

my $secret = 'legacy-secret-0123456789abcdef';

my $ngx = start_nginx(server_conf => qq{
    location /chart {
        bubble;
    }
    location /small {
        bubble;
        bubble_max_points 5;
    }
    location /signed {
        bubble;
        bubble_url_secret $secret;
    }
});

my $base = 'cht=s&chs=400x300&chd=t:10,20,30|40,50,60|100,50,25'
         . '&chco=FF0000&chtt=My+chart&chdl=Series&chxt=x,y'
         . '&chxr=0,0,100|1,0,100';

sub circles {
    my ($svg) = @_;
    my $n = () = ($svg // '') =~ /<circle\b/g;
    return $n;
}

# --- PNGs of the chs size ----------------------------------------------------

my @pngs = (
    [ "/chart.png?$base", 400, 300, 'text encoding, size series, legend' ],
    [ '/chart.png?cht=s&chs=250x150&chd=s:AKUeoy9,9yoeUKA', 250, 150,
      'simple encoding' ],
    [ '/chart.png?cht=s&chs=320x200&chd=e:AAgA..,..gAAA&chxt=x,y'
      . '&chxr=0,0,4095|1,0,4095', 320, 200, 'extended encoding' ],
    [ '/chart?cht=s&chs=300x300&chd=t:1,2,3|4,5,6&chds=0,10', 300, 300,
      'no extension: PNG, Google\'s only format' ],
    [ '/chart.png?cht=s&chs=360x240&chd=t:-5,0,5|100,200,300&chds=a'
      . '&chxt=x,y', 360, 240, 'chds=a' ],
    [ '/chart.png?cht=s&chs=200x100&chd=t%3A10%2C20%7C30%2C40', 200, 100,
      'percent-encoded parameters' ],
);

for my $t (@pngs) {
    my ($url, $w, $h, $desc) = @$t;
    my $r = http_request('GET', $url);
    is($r->{status}, 200, "$desc: 200")
        or diag(substr($r->{body} // '', 0, 300));
    like($r->{headers}{'content-type'} // '', qr{^image/png}, "$desc: PNG");
    my $info = png_info($r->{body});
    ok($info->{valid}, "$desc: a valid PNG") or diag($info->{error});
    is("$info->{width}x$info->{height}", "${w}x$h", "$desc: ${w}x$h");
}

# --- SVG: the title and one circle per point (+ legend keys) ---------------

{
    my $r = http_request('GET', "/chart.svg?$base");
    is($r->{status}, 200, 'SVG: 200');
    like($r->{headers}{'content-type'} // '', qr{^image/svg\+xml},
         'SVG: Content-Type');
    like($r->{body}, qr{>My chart</text>}, 'SVG: the title');
    is(circles($r->{body}), 3 + 1, 'SVG: 3 points and 1 legend key');
    like($r->{body}, qr{>Series</text>}, 'SVG: the legend label');
    like($r->{headers}{etag} // '', qr/^"[0-9a-f]{32}"$/, 'SVG: ETag');
    is($r->{headers}{'x-bubble-dropped-rows'}, 0, 'SVG: no rows dropped');

    my $cats = '/chart.svg?cht=s&chs=400x300'
             . '&chd=t:12,87,75,41,23,96,68,71,34,9'
             . '|98,60,27,34,56,79,58,74,18,76'
             . '|84,23,69,81,47,94,60,93,64,54'
             . '&chco=FF0000|00FF00|0000FF&chdl=Cats|Dogs|Birds'
             . '&chtt=Pets|per+year&chxt=x,y';
    $r = http_request('GET', $cats);
    is($r->{status}, 200, 'per-point colours: 200');
    is(circles($r->{body}), 10 + 3, 'per-point colours: 10 points, 3 keys');
    like($r->{body}, qr{>Pets</text>}, 'chtt line 1: the title');
    like($r->{body}, qr{>per year</text>}, 'chtt line 2: the subtitle');
    like($r->{body}, qr{fill="#ff0000"}i, 'per-point colours: red');
    like($r->{body}, qr{fill="#0000ff"}i, 'per-point colours: blue');

    # no chdl, no chco: Google's blue, no legend
    $r = http_request('GET', '/chart.svg?cht=s&chs=300x200'
                      . '&chd=s:AKUeoy9,9yoeUKA');
    is(circles($r->{body}), 7, 'no legend: only the 7 points');
    like($r->{body}, qr{fill="#4d89f9"}i, 'default colour: Google blue');

    $r = http_request('GET', '/chart.svg?cht=s&chs=300x200'
                      . '&chtt=Caf%C3%A9+au+lait&chd=t:10,20|30,40');
    like($r->{body}, qr{>Caf\x{c3}\x{a9} au lait</text>},
         'UTF-8 title, percent-encoded');

    # missing values: dropped and counted, as in any spec
    $r = http_request('GET', '/chart.svg?cht=s&chs=300x200'
                      . '&chd=t:10,-1,30,40|40,50,_,60');
    is($r->{status}, 200, 'missing values: 200');
    is(circles($r->{body}), 2, 'missing values: 2 of 4 points drawn');
    is($r->{headers}{'x-bubble-dropped-rows'}, 2,
       'missing values: X-Bubble-Dropped-Rows: 2');
}

# --- the same chart as its JSON spec: the same SVG, the same ETag -----------

{
    my %legacy = (
        "/chart.svg?$base" => {
            width => 400, height => 300, format => 'png',
            theme => 'classic', alpha => 1, background => '#ffffff',
            title => 'My chart',
            data => { x => [10, 20, 30], y => [40, 50, 60],
                      size => [100, 50, 25],
                      series => ['Series', 'Series', 'Series'] },
            mapping => { x => 'x', y => 'y', size => 'size',
                         color => 'series' },
            x => { title => '', limits => [0, 100] },
            y => { title => '', limits => [0, 100] },
            size => { type => 'area', range => [0, 10], limits => [0, 100],
                      breaks => [] },
            color => { type => 'categorical', title => '',
                       palette => ['#ff0000'], limits => ['Series'] },
            legend => { position => 'right' },
        },
        # simple codes 0..61 on chxr 0..61 and a reversed 610..0, steps
        # of 10 and 100; per-point colours without a legend
        '/chart.svg?cht=s&chs=300x250&chd=s:A9e,9Ae&chxt=x,y'
        . '&chxr=0,0,61,10|1,610,0,100&chco=00FF00|0000FF80'
        . '&chf=bg,s,EFEFEF' => {
            width => 300, height => 250, format => 'png',
            theme => 'classic', alpha => 1, background => '#efefef',
            data => { x => [0, 61, 30], y => [0, 610, 310],
                      series => ['#00ff00', '#0000ff', '#00ff00'] },
            mapping => { x => 'x', y => 'y', color => 'series' },
            x => { title => '', limits => [0, 61],
                   breaks => [0, 10, 20, 30, 40, 50, 60] },
            y => { title => '', limits => [0, 610], reverse => JSON::PP::true,
                   breaks => [0, 100, 200, 300, 400, 500, 600] },
            size => { range => [0, 5] },
            color => { type => 'categorical', title => '',
                       palette => ['#00ff00', '#0000ff80'],
                       limits => ['#00ff00', '#0000ff'] },
            legend => { position => 'none' },
        },
    );

    for my $url (sort keys %legacy) {
        my $get = http_request('GET', $url);
        my $post = post_chart('/chart.svg', $legacy{$url});
        is($get->{status}, 200, "legacy $url: 200");
        is($post->{status}, 200, 'its JSON spec: 200')
            or diag(substr($post->{body} // '', 0, 300));
        ok(defined $get->{body} && $get->{body} eq $post->{body},
           'legacy URL and JSON spec: the same SVG bytes');
        is($get->{headers}{etag}, $post->{headers}{etag},
           'legacy URL and JSON spec: the same ETag');
    }
}

# --- a legacy URL is a chart URL: 304, HEAD, Cache-Control ------------------

{
    my $url = "/chart.png?$base";
    my $r = http_request('GET', $url);
    my $etag = $r->{headers}{etag};
    is($r->{headers}{'cache-control'}, 'public, max-age=31536000, immutable',
       'legacy URL: long Cache-Control');

    $r = http_request('GET', $url, headers => { 'If-None-Match' => $etag });
    is($r->{status}, 304, 'legacy URL: If-None-Match -> 304');
    is(length($r->{body} // ''), 0, '304: no body');

    $r = http_request('HEAD', $url);
    is($r->{status}, 200, 'legacy URL: HEAD 200');
    is($r->{headers}{etag}, $etag, 'HEAD: the same ETag');

    (my $reordered = $base) =~ s/^(cht=s)&(chs=400x300)/$2&$1/;
    is(http_request('GET', "/chart.png?$reordered")->{headers}{etag}, $etag,
       'parameter order does not change the ETag');
}

# --- signed locations: legacy URLs carry no signature -----------------------

json_error_ok(http_request('GET', "/signed.png?$base"), 403, 'forbidden',
              'legacy URL on a signed location');

# --- errors: docs/spec.md's JSON, path = the parameter ---------------------------

my @errors = (
    [ 'cht=p3&chs=200x100&chd=t:1,2|3,4', 400, 'cht', 'unsupported cht' ],
    [ 'cht=&chs=200x100&chd=t:1,2|3,4', 400, 'cht', 'empty cht' ],
    [ 'cht=s&chd=t:1,2|3,4', 400, 'chs', 'no chs' ],
    [ 'cht=s&chs=200by100&chd=t:1,2|3,4', 400, 'chs', 'malformed chs' ],
    [ 'cht=s&chs=8x8&chd=t:1,2|3,4', 400, 'chs', 'chs too small' ],
    [ 'cht=s&chs=20000x100&chd=t:1,2|3,4', 413, 'chs', 'chs past max side' ],
    [ 'cht=s&chs=5000x5000&chd=t:1,2|3,4', 413, 'chs',
      'chs past bubble_max_pixels' ],
    [ 'cht=s&chs=200x100', 400, 'chd', 'no chd' ],
    [ 'cht=s&chs=200x100&chd=x:1,2|3,4', 400, 'chd', 'unknown encoding' ],
    [ 'cht=s&chs=200x100&chd=t:1,abc|3,4', 400, 'chd', 'not a number' ],
    [ 'cht=s&chs=200x100&chd=t:1,2,3|3,4', 400, 'chd', 'unequal series' ],
    [ 'cht=s&chs=200x100&chd=t:1,2', 400, 'chd', 'one series' ],
    [ 'cht=s&chs=200x100&chd=t:1|2|3|4', 400, 'chd', 'four series' ],
    [ 'cht=s&chs=200x100&chd=s:AB*,CDE', 400, 'chd', 'bad simple char' ],
    [ 'cht=s&chs=200x100&chd=e:AAB,CCDD', 400, 'chd', 'odd extended' ],
    [ 'cht=s&chs=200x100&chd=t:-1,-1|3,4', 400, 'chd', 'no drawable point' ],
    [ 'cht=s&chs=200x100&chd=t:1,2|3,4&chds=0', 400, 'chds', 'odd chds' ],
    [ 'cht=s&chs=200x100&chd=t:1,2|3,4&chds=5,5', 400, 'chds',
      'empty chds range' ],
    [ 'cht=s&chs=200x100&chd=t:1,2|3,4&chco=red', 400, 'chco', 'bad chco' ],
    [ 'cht=s&chs=200x100&chd=t:1,2|3,4&chxt=x,z', 400, 'chxt', 'bad chxt' ],
    [ 'cht=s&chs=200x100&chd=t:1,2|3,4&chxt=x&chxr=0,5', 400, 'chxr',
      'short chxr' ],
    [ 'cht=s&chs=200x100&chd=t:1,2|3,4&chf=bg,s,nothex', 400, 'chf',
      'bad chf' ],
    [ 'cht=s&chs=200x100&chd=t:1,2|3,4&chtt=%FF%FE', 400, 'chtt',
      'title not UTF-8' ],
    [ 'cht=s&chs=200x100&chd=t:1,2|3,4&chdl=%C3', 400, 'chdl',
      'legend not UTF-8' ],
);

for my $e (@errors) {
    my ($args, $status, $path, $desc) = @$e;
    my $r = http_request('GET', "/chart.png?$args");
    my $j = json_error_ok($r, $status,
                          $status == 413 ? 'too_large' : 'invalid_spec',
                          $desc);
    is($j && $j->{path}, $path, "$desc: path \"$path\"");
}

{
    my $r = http_request('GET', '/small.png?cht=s&chs=200x100'
                         . '&chd=t:1,2,3,4,5,6|1,2,3,4,5,6');
    my $j = json_error_ok($r, 413, 'too_large',
                          'points past bubble_max_points');
    is($j && $j->{path}, 'chd', 'too many points: path "chd"');
    like($j && $j->{message}, qr/limit is 5/, 'too many points: the limit');

    is(http_request('GET', '/small.png?cht=s&chs=200x100'
                    . '&chd=t:1,2,3,4,5|1,2,3,4,5')->{status}, 200,
       'at bubble_max_points: 200');
}

# --- a native spec= is unaffected ------------------------------------------

{
    my $r = http_request('GET', '/chart.svg?spec=%7B%22data%22%3A%5B%7B%22x'
                         . '%22%3A1%2C%22y%22%3A2%7D%5D%7D');
    is($r->{status}, 200, 'spec= still works');
}

is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');

done_testing();
