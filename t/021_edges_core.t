#!/usr/bin/perl
# Right answers at the edges, core side (issue 15, items 2, 3, 4, 6),
# through real nginx:
#
#   - huge numbers in every numeric field (x/y data and limits, log10 and
#     sqrt axes, continuous colour data and limits, size data and limits
#     on both size scales, numeric facets, labels, tooltips) give a valid
#     chart -- no NaN or infinity in the SVG, every bubble on the page, a
#     valid PNG and PDF -- or a 400 whose path names the field whose range
#     cannot be drawn, in every format; never a 500;
#   - label formats draw their whole label (widths and precisions of 99),
#     or y labels too wide for the panel are a 400 naming y.labels;
#   - legacy Google Chart URLs give valid JSON for every number they
#     accept (never invalid_json) or a 400 naming the parameter; a chxr
#     index past chxt is refused;
#   - color.limits past 64 categories is refused, and the 64th is drawn.
#
# Specs are written as JSON text, not through JSON::PP: its 15 digits
# would turn 1.7976931348623157e308 into a number past the doubles.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;

require_module();

my $ngx = start_nginx(server_conf => q{
    location /chart { bubble; }
});

my $MAX = '1.7976931348623157e308';

# A 400 x 300 spec from JSON members.
sub spec { return '{"width":400,"height":300,' . join(',', @_) . '}' }

# NaN or infinity in an SVG attribute (text escapes '"', so '="' is markup)
sub svg_bad_numbers {
    my ($svg) = @_;
    return [ ($svg // '') =~ /(\w[\w:-]*="[^"]*\b(?:nan|inf)[^"]*")/gi ];
}

# Circle centres off the width x height page (the old answer put them at
# cx="1000000").
sub circles_off_page {
    my ($svg, $w, $h) = @_;
    my @off;
    while (($svg // '') =~ /<circle cx="([^"]*)" cy="([^"]*)"/g) {
        push @off, "($1, $2)" unless $1 >= 0 && $1 <= $w && $2 >= 0
                                    && $2 <= $h;
    }
    return \@off;
}

# The spec draws in all three formats: a valid image, nothing non-finite.
sub draws {
    my ($desc, $spec, $w, $h) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ($w, $h) = (400, 300) unless defined $w;

    my $r = post_chart('/chart.svg', $spec);
    is($r->{status}, 200, "$desc: SVG 200")
        or diag(substr($r->{body} // '', 0, 300));
    like($r->{headers}{'content-type'} // '', qr{^image/svg\+xml},
         "$desc: image/svg+xml");
    is_deeply(svg_bad_numbers($r->{body}), [],
              "$desc: no NaN or infinity in the SVG");
    is_deeply(circles_off_page($r->{body}, $w, $h), [],
              "$desc: every bubble on the page");

    $r = post_chart('/chart.png', $spec);
    is($r->{status}, 200, "$desc: PNG 200")
        or diag(substr($r->{body} // '', 0, 300));
    my $info = png_info($r->{body});
    ok($info->{valid}, "$desc: a valid PNG") or diag($info->{error});
    is("$info->{width}x$info->{height}", "${w}x$h", "$desc: ${w}x$h");

    $r = post_chart('/chart.pdf', $spec);
    is($r->{status}, 200, "$desc: PDF 200")
        or diag(substr($r->{body} // '', 0, 300));
    like($r->{body} // '', qr/\A%PDF-.*%%EOF\s*\z/s,
         "$desc: a whole PDF");

    return $r;
}

# The spec is a 400 naming $path (its message starts with it), whatever the
# format.
sub refused {
    my ($desc, $spec, $path) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;

    for my $ext (qw(svg png pdf)) {
        my $r = post_chart("/chart.$ext", $spec);
        my $j = json_error_ok($r, 400, 'invalid_spec', "$desc ($ext)");
        is($j->{path}, $path, "$desc ($ext): path $path") if $j;
        like($j->{message} // '', qr/^\Q$path\E: /,
             "$desc ($ext): the message starts with $path") if $j;
    }
}

# --- 2. huge numbers: refused where the axis range cannot be drawn ----------

refused('x data from -1e308 to 1e308 (the issue\'s example)',
        spec('"data":{"x":[1e308,-1e308,0],"y":[1,2,3]}'), 'data.x[0]');
refused('y data 2e308 apart, rows form: the far cell is named',
        spec('"data":[{"x":1,"y":-1e308},{"x":2,"y":2e307},'
             . '{"x":3,"y":1e308}]'), 'data[2].y');
refused('x data whose 5% margin passes the largest double',
        spec(qq|"data":{"x":[1e308,$MAX],"y":[1,2]}|), 'data.x[1]');
refused('x.limits [-1e308, 1e308]',
        spec('"data":{"x":[1,2],"y":[1,2]},'
             . '"x":{"limits":[-1e308,1e308]}'), 'x.limits');
refused('sqrt limits below 0 (sqrt(-5) was drawn at cx="1000000"): the '
        . 'axis named, as for log10',
        spec('"data":{"x":[1,2],"y":[1,2]},'
             . '"x":{"scale":"sqrt","limits":[-5,10]}'), 'x');
refused('y.limits [0, DBL_MAX]',
        spec(qq|"data":{"x":[1,2],"y":[1,2]},"y":{"limits":[0,$MAX]}|),
        'y.limits');

# --- 2. huge numbers: everything else draws ---------------------------------

draws('x and y data up to the widest axis that fits',
      spec('"data":{"x":[0,1.6e308],"y":[-0.8e308,0.8e308]}'));
draws('x and y at +-DBL_MAX, one value each',
      spec(qq|"data":{"x":[$MAX,$MAX],"y":[-$MAX,-$MAX]}|));
draws('y limits 1.1e308 wide, breaks at both ends of the doubles',
      spec('"data":{"x":[1,2],"y":[1,2]},"y":{"limits":[-1e308,1e307],'
           . qq|"breaks":[-1e308,0,$MAX]}|));
draws('log10 axes from the smallest to the largest double',
      spec(qq|"data":{"x":[1e-300,1e308],"y":[5e-324,$MAX]},|
           . '"x":{"scale":"log10"},"y":{"scale":"log10"}'));
draws('log10 limits [5e-324, DBL_MAX]',
      spec('"data":{"x":[1,2],"y":[1,2]},'
           . qq|"x":{"scale":"log10","limits":[5e-324,$MAX]}|));
draws('sqrt axis to DBL_MAX',
      spec(qq|"data":{"x":[0,$MAX],"y":[1,2]},"x":{"scale":"sqrt"}|));
draws('continuous colour data from -1e308 to 1e308',
      spec('"data":{"x":[1,2,3],"y":[1,2,3],"c":[-1e308,0,1e308]},'
           . '"mapping":{"color":"c"}'));
draws('continuous colour limits +-DBL_MAX',
      spec('"data":{"x":[1,2,3],"y":[1,2,3],"c":[1,2,3]},'
           . qq|"mapping":{"color":"c"},"color":{"limits":[-$MAX,$MAX]}|));
draws('radius size data from -1e308 to 1e308',
      spec('"data":{"x":[1,2,3],"y":[1,2,3],"s":[-1e308,0,1e308]},'
           . '"mapping":{"size":"s"},"size":{"type":"radius"}'));
draws('radius size limits +-DBL_MAX',
      spec('"data":{"x":[1,2,3],"y":[1,2,3],"s":[1,2,3]},'
           . '"mapping":{"size":"s"},'
           . qq|"size":{"type":"radius","limits":[-$MAX,$MAX]}|));
draws('area size and colour of one column at +-DBL_MAX (one legend)',
      spec(qq|"data":{"x":[1,2,3],"y":[1,2,3],"s":[-$MAX,5e-324,$MAX]},|
           . '"mapping":{"size":"s","color":"s"}'));
draws('numeric facets, labels and tooltips of extreme values',
      spec('"data":{"x":[1,2,3],"y":[1,2,3],'
           . qq|"f":[-$MAX,5e-324,1e308],"l":[$MAX,-5e-324,0]},|
           . '"facet":{"wrap":"f"},'
           . '"mapping":{"label":"l","tooltip":"l"}'));

{
    # one value the 5% margins cannot move: in the middle, not at 1e6 px
    my $r = draws('a single x of 1e20',
                  spec('"data":{"x":[1e20,1e20],"y":[1,2]}'));
    $r = post_chart('/chart.svg',
                    spec('"data":{"x":[1e20,1e20],"y":[1,2]}'));
    my @cx = ($r->{body} // '') =~ /<circle cx="([^"]*)"/g;
    is(scalar @cx, 2, 'single x of 1e20: two bubbles');
    ok(@cx == 2 && $cx[0] == $cx[1] && $cx[0] > 100 && $cx[0] < 400,
       'single x of 1e20: both in the middle of the panel')
        or diag("cx: @cx");
}

{
    # the class as a property: random specs of extreme numbers, in every
    # numeric field at once; each draws cleanly or is a 400 with a path
    my @nums = ($MAX, "-$MAX", qw(1e308 -1e308 1.7e308 1e300 -1e300
                1.3e154 1e20 -1e20 5e-324 -5e-324 1e-300 0 -0.0 1 -1 0.5));
    my @axes = ('{}', '{"scale":"log10"}', '{"scale":"sqrt"}',
                q({"labels":"%'.2f"}), '{"reverse":true}');
    my $pick = sub { $_[int rand @_] };
    srand 15;
    my ($drawn, $refused, @bad) = (0, 0);

    for my $k (1 .. 40) {
        my $n = 1 + int rand 3;
        my $cols = join ',', map {
            my $c = $_;
            qq|"$c":[| . join(',', map { $pick->(@nums) } 1 .. $n) . ']'
        } qw(x y s c);
        my $spec = spec(qq|"data":{$cols}|, '"x":' . $pick->(@axes),
                        '"y":' . $pick->(@axes),
                        '"mapping":{"size":"s","color":"c"}',
                        '"size":{"type":"'
                        . (rand() < 0.5 ? 'area' : 'radius') . '"}');
        my $ext = $pick->(qw(svg png pdf));
        my $r = post_chart("/chart.$ext", $spec);
        my $j = ($r->{headers}{'content-type'} // '') =~ /json/
                ? json_decode($r->{body}) : undef;

        if ($r->{status} == 400 && $j && length($j->{path} // '')) {
            $refused++;
        } elsif ($r->{status} == 200 && $ext eq 'svg'
                 && !@{ svg_bad_numbers($r->{body}) }) {
            $drawn++;
        } elsif ($r->{status} == 200 && $ext eq 'png'
                 && png_info($r->{body})->{valid}) {
            $drawn++;
        } elsif ($r->{status} == 200 && $ext eq 'pdf'
                 && ($r->{body} // '') =~ /\A%PDF-/) {
            $drawn++;
        } else {
            push @bad, "$ext $spec -> $r->{status} "
                       . substr($r->{body} // '', 0, 200);
        }
    }

    is_deeply(\@bad, [], 'extreme numbers: every answer a chart or a 400');
    ok($drawn >= 5 && $refused >= 5,
       "extreme numbers: both outcomes seen ($drawn drawn, $refused "
       . 'refused)');
}

# --- 3. label formats, drawn whole ------------------------------------------

{
    # the padding is written, and collapsed as SVG viewers collapse it --
    # in the PNG too, and the axis is as wide as what is drawn
    my $spec = '{"data":{"x":[1,2,3],"y":[1,2,3]},'
             . '"y":{"labels":"%99.2e"}}';
    my $r = draws('y labels "%99.2e"', $spec, 800, 600);
    $r = post_chart('/chart.svg', $spec);
    my $want = (' ' x 91) . '1.50e+00';
    like($r->{body} // '', qr{>\Q$want\E</text>},
         '"%99.2e": all 99 characters (the old answer: 31 spaces)');
    my ($cx) = ($r->{body} // '') =~ /<circle cx="([^"]*)"/;
    $r = post_chart('/chart.svg', '{"data":{"x":[1,2,3],"y":[1,2,3]},'
                                  . '"y":{"labels":"%.2e"}}');
    my ($cx2) = ($r->{body} // '') =~ /<circle cx="([^"]*)"/;
    is($cx, $cx2, '"%99.2e": the panel where "%.2e" puts it');
}

{
    my $spec = '{"width":1600,"data":{"x":[1,2,3],"y":[1,2,3]},'
             . q("y":{"labels":"%.99f"},"x":{"labels":"%'99.99e"}});
    draws('"%.99f" and "%\'99.99e" labels on a 1600 px chart', $spec, 1600,
          600);
    my $r = post_chart('/chart.svg', $spec);
    my ($f, $e) = ('2.' . ('0' x 99), '3.' . ('0' x 99) . 'e+00');
    like($r->{body} // '', qr{>\Q$f\E</text>}, '"%.99f": all 99 decimals');
    like($r->{body} // '', qr{>\Q$e\E</text>}, '"%\'99.99e": the whole label');
}

{
    my $spec = q({"data":{"x":[0,1e30],"y":[1,2]},"x":{"labels":"%'.2f"}});
    my $r = post_chart('/chart.svg', $spec);
    is($r->{status}, 200, 'grouped digits past 31 bytes: 200');
    like($r->{body} // '',
         qr{>1,000,000,000,000,000,019,884,624,838,656\.00</text>},
         'grouped digits past 31 bytes: 1e30 in full');
}

refused('"%.99f" y labels wider than an 800 px chart has room for',
        '{"data":{"x":[1,2,3],"y":[1,2,3]},"y":{"labels":"%.99f"}}',
        'y.labels');

# --- 4. legacy URLs: valid JSON, or the parameter named ---------------------

sub gchart_refused {
    my ($desc, $query, $param, $text) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $r = http_request('GET', "/chart.svg?$query");
    my $j = json_error_ok($r, 400, 'invalid_spec', $desc);
    is($j->{path}, $param, "$desc: path $param") if $j;
    like($j->{message} // '', qr/^\Q$param\E: .*\Q$text\E/,
         "$desc: the message says \"$text\"") if $j;
}

{
    my $q = 'cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x&chxr=0,0,1e308';
    my $r = http_request('GET', "/chart.svg?$q");
    is($r->{status}, 200, 'chxr to 1e308 (the issue\'s URL): 200, not '
       . 'invalid_json') or diag(substr($r->{body} // '', 0, 300));
    is_deeply(svg_bad_numbers($r->{body}), [],
              'chxr to 1e308: no NaN or infinity in the SVG');
    is_deeply(circles_off_page($r->{body}, 400, 300), [],
              'chxr to 1e308: the points on the page');
    $r = http_request('GET', "/chart.png?$q");
    ok(png_info($r->{body})->{valid}, 'chxr to 1e308: a valid PNG');

    $r = http_request('GET', '/chart.svg?cht=s&chs=400x300'
                      . '&chd=t:1,2|1,2|0,1e308&chds=a&chxt=x,y');
    is($r->{status}, 200, 'chds=a over a size series to 1e308: 200')
        or diag(substr($r->{body} // '', 0, 300));
}

gchart_refused('chxr from -1e308 to 1e308',
               'cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x&chxr=0,-1e308,1e308',
               'chxr', 'too wide');
gchart_refused('chxr to DBL_MAX (no room for the margin)',
               "cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x,y&chxr=1,0,$MAX",
               'chxr', 'y axis');
gchart_refused('chds from -1e308 to 1e308',
               'cht=s&chs=400x300&chd=t:1,2|1,2&chds=-1e308,1e308',
               'chds', 'too wide');
gchart_refused('chds=a over data from -1e308 to 1e308',
               'cht=s&chs=400x300&chd=t:-1e308,1e308|1,2&chds=a',
               'chds', 'too wide');
gchart_refused('chxr index 5 past chxt=x',
               'cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x&chxr=5,0,10',
               'chxr', 'not an index into chxt');
gchart_refused('chxr index 2 past chxt=x,y',
               'cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x,y&chxr=0,0,1|2,0,9',
               'chxr', 'range 2');
gchart_refused('chxr without chxt',
               'cht=s&chs=400x300&chd=t:1,2|1,2&chxr=0,0,10',
               'chxr', '(0 axes)');
gchart_refused('chxr index -1, as before',
               'cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x&chxr=-1,0,10',
               'chxr', 'not an index into chxt');

# --- 6. categories: 64 drawn, more refused ----------------------------------

sub categories_spec {
    my ($n, $height) = @_;
    my $names = join ',', map { sprintf '"c%02d"', $_ } 0 .. $n - 1;
    return qq({"width":400,"height":$height,)
         . sprintf('"data":{"x":[1,2],"y":[1,2],"g":["c00","c%02d"]},',
                   $n - 1)
         . '"mapping":{"color":"g"},'
         . qq("color":{"palette":["red","blue"],"limits":[$names]}});
}

refused('color.limits naming 100 categories', categories_spec(100, 600),
        'color.limits');
refused('color.limits naming 65 categories', categories_spec(65, 600),
        'color.limits');

{
    # 64, on a page tall enough for 64 legend keys
    my $r = draws('color.limits naming 64 categories',
                  categories_spec(64, 1700), 400, 1700);
    $r = post_chart('/chart.svg', categories_spec(64, 1700));
    is($r->{headers}{'x-bubble-dropped-rows'}, 0,
       '64 categories: no row dropped');
    my $svg = $r->{body} // '';
    my @keys = $svg =~ />(c\d\d)</g;
    is(scalar @keys, 64, '64 categories: a legend key each');
    # palette red, blue repeated: 32 keys of each, and the rows in c00
    # (red) and c63 (blue): 33 circles of each colour
    my $blue = () = $svg =~ /<circle [^>]*fill="#0000ff"/g;
    my $red = () = $svg =~ /<circle [^>]*fill="#ff0000"/g;
    is($blue, 33, "64 categories: the 64th row's bubble is blue, as its key");
    is($red, 33, '64 categories: the first row\'s bubble is red');
    unlike($svg, qr/<circle [^>]*fill="#7f7f7f"/,
           '64 categories: no bubble drawn grey');
}

# --- still alive -------------------------------------------------------------

is_deeply([error_log_crashes($ngx)], [], 'no worker exited on a signal');

done_testing();
