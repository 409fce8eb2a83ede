#!/usr/bin/perl
# Pixel probes of PNGs rendered through nginx (issue 3): bubble radii
# within 1 px of sqrt(value / max) * max_radius ("area", scale_size_area)
# and of the linear "radius" scale, at scale 1 and 2; legend keys and
# bubbles in the exact palette colours (ggplot2's hue_pal()(3)); a viridis
# colour bar whose ends are viridis's end colours and whose rows agree with
# the bubbles drawn at the same values.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;
use BubblePNG;

require_module();

my $ngx = start_nginx(server_conf => q{
    location /chart {
        bubble;
    }
});

sub png {
    my ($spec, $desc) = @_;
    my $res = post_chart('/chart.png', $spec);
    is($res->{status}, 200, "$desc: 200")
        or diag(substr($res->{body} // '', 0, 300));
    return png_decode($res->{body});
}

# Pure blue (#0000ff, alpha 1) over white: a pixel's coverage is
# (B - R) / 255, grey text and axes have B == R and count 0.  Returns the
# blue blobs as {area => summed coverage, x0, x1, cx, cy}, left to right.
sub blue_blobs {
    my ($img) = @_;
    my ($w, $h) = @$img{qw(width height)};
    my (@cov, @seen, @blobs);
    for my $y (0 .. $h - 1) {
        for my $x (0 .. $w - 1) {
            my ($r, $g, $b) = png_pixel($img, $x, $y);
            $cov[$y * $w + $x] = ($r == $g && $b > $r) ? ($b - $r) / 255 : 0;
        }
    }
    for my $start (0 .. $w * $h - 1) {
        next if !$cov[$start] || $seen[$start];
        my @stack = ($start);
        my %b = (area => 0, x0 => $w, x1 => -1, sx => 0, sy => 0);
        $seen[$start] = 1;
        while (defined(my $i = pop @stack)) {
            my ($x, $y) = ($i % $w, int($i / $w));
            $b{area} += $cov[$i];
            $b{sx} += $cov[$i] * ($x + 0.5);
            $b{sy} += $cov[$i] * ($y + 0.5);
            $b{x0} = $x if $x < $b{x0};
            $b{x1} = $x if $x > $b{x1};
            for my $n ([$x - 1, $y], [$x + 1, $y], [$x, $y - 1], [$x, $y + 1]) {
                my ($nx, $ny) = @$n;
                next if $nx < 0 || $ny < 0 || $nx >= $w || $ny >= $h;
                my $j = $ny * $w + $nx;
                next if $seen[$j] || !$cov[$j];
                $seen[$j] = 1;
                push @stack, $j;
            }
        }
        next if $b{area} < 1;               # stray antialiasing
        $b{cx} = $b{sx} / $b{area};
        $b{cy} = $b{sy} / $b{area};
        push @blobs, \%b;
    }
    return sort { $a->{cx} <=> $b->{cx} } @blobs;
}

sub radii_ok {
    my ($spec, $expect, $desc) = @_;
    my $img = png($spec, $desc);
    my @blobs = blue_blobs($img);
    is(scalar @blobs, scalar @$expect, "$desc: one blob a bubble");
    for my $k (0 .. $#$expect) {
        my $b = $blobs[$k] or next;
        my $r_area  = sqrt($b->{area} / 3.14159265358979);
        my $r_width = ($b->{x1} - $b->{x0} + 1) / 2;
        cmp_ok(abs($r_area - $expect->[$k]), '<=', 1,
               sprintf("%s: bubble %d radius from its area %.2f px, "
                       . "expected %.2f", $desc, $k, $r_area, $expect->[$k]));
        cmp_ok(abs($r_width - $expect->[$k]), '<=', 1,
               sprintf("%s: bubble %d radius from its width %.1f px, "
                       . "expected %.2f", $desc, $k, $r_width, $expect->[$k]));
    }
}

my %blue = (
    width => 480, height => 360, theme => 'classic', alpha => 1,
    color => { value => '#0000ff' }, legend => { position => 'none' },
    x => { limits => [0, 5] },
    data => { x => [1, 2, 3, 4], y => [1, 1, 1, 1], v => [1, 4, 9, 16] },
    mapping => { x => 'x', y => 'y', size => 'v' },
);

# area: r = sqrt(v / max) * range[1]
radii_ok({ %blue, size => { range => [1, 30] } },
         [map { sqrt($_ / 16) * 30 } 1, 4, 9, 16], 'area scale');

# the largest absolute value gets the maximum, 0 gets radius 0: with a
# limit of 25 the values are a share of 25, not of the data's 16
radii_ok({ %blue, size => { range => [1, 30], limits => [0, 25] } },
         [map { sqrt($_ / 25) * 30 } 1, 4, 9, 16], 'area scale, limits');

# device pixel ratio 2: twice the radii
radii_ok({ %blue, scale => 2, size => { range => [1, 30] } },
         [map { 2 * sqrt($_ / 16) * 30 } 1, 4, 9, 16], 'area scale, scale 2');

# radius: linear from range[0] at the smallest to range[1] at the largest
radii_ok({ %blue, size => { type => 'radius', range => [5, 25] } },
         [map { 5 + ($_ - 1) / 15 * 20 } 1, 4, 9, 16], 'radius scale');

# -- categorical colours: ggplot2's scales::hue_pal()(3) ------------------

my @hue = ([0xF8, 0x76, 0x6D], [0x00, 0xBA, 0x38], [0x61, 0x9C, 0xFF]);

{
    my $img = png({
        width => 480, height => 360, alpha => 1,
        data => { x => [1, 2, 3], y => [1, 2, 3], g => ['a', 'b', 'c'] },
        mapping => { x => 'x', y => 'y', color => 'g' },
        size => { range => [1, 8] },
    }, 'hue legend');

    # where each palette colour appears exactly, left of x = 400 (the
    # panel) and right of it (the legend)
    my (@panel, @legend);
    for my $y (0 .. $img->{height} - 1) {
        for my $x (0 .. $img->{width} - 1) {
            my ($r, $g, $b) = png_pixel($img, $x, $y);
            for my $k (0 .. 2) {
                next unless $r == $hue[$k][0] && $g == $hue[$k][1]
                            && $b == $hue[$k][2];
                my $where = $x < 400 ? \@panel : \@legend;
                push @{ $where->[$k] }, $y;
            }
        }
    }
    for my $k (0 .. 2) {
        my $hex = sprintf('#%02X%02X%02X', @{ $hue[$k] });
        cmp_ok(scalar @{ $panel[$k] || [] }, '>=', 100,
               "bubble $k is $hex (its solid pixels)");
        cmp_ok(scalar @{ $legend[$k] || [] }, '>=', 4,
               "legend key $k is $hex");
    }
    # keys top to bottom in the order of the categories
    my @mid = map { my @y = @{ $legend[$_] || [0] }; $y[@y / 2] } 0 .. 2;
    ok($mid[0] < $mid[1] && $mid[1] < $mid[2],
       "legend keys a, b, c from top to bottom (rows @mid)");
}

# -- continuous colour bar: viridis ---------------------------------------

{
    my $img = png({
        width => 480, height => 360, alpha => 1,
        data => { x => [1, 2, 3], y => [1, 2, 3], t => [0, 5, 10] },
        mapping => { x => 'x', y => 'y', color => 't' },
        size => { range => [1, 8] },
    }, 'viridis bar');

    # the bar: the longest run of coloured rows (channels 24 apart or
    # more; antialiased edges and white ticks are not) at a column of the
    # legend; of the columns with that run, the middle one
    my (@cols, @rows);
    for my $x (400 .. 470) {
        my @run;
        for my $y (0 .. $img->{height} - 1) {
            my @p = (png_pixel($img, $x, $y))[0 .. 2];
            my ($lo, $hi) = (sort { $a <=> $b } @p)[0, 2];
            if ($hi - $lo >= 24) {
                push @run, $y;
            } elsif (@run) {
                last;
            }
        }
        if (@run > @rows) { @rows = @run; @cols = ($x) }
        elsif (@run && @run == @rows) { push @cols, $x }
    }
    my $bx = $cols[int(@cols / 2)];
    cmp_ok(scalar @rows, '>=', 100, 'a colour bar about 115 px long')
        or diag("longest coloured run: " . scalar @rows);

    my $close = sub {
        my ($got, $want, $tol) = @_;
        return !grep { abs($got->[$_] - $want->[$_]) > $tol } 0 .. 2;
    };
    my @top = png_pixel($img, $bx, $rows[0]);
    my @bot = png_pixel($img, $bx, $rows[-1]);
    ok($close->(\@top, [0xFD, 0xE7, 0x25], 6),
       sprintf('bar top is viridis\'s last colour #FDE725 (%02X%02X%02X)',
               @top[0 .. 2]));
    ok($close->(\@bot, [0x44, 0x01, 0x54], 6),
       sprintf('bar bottom is viridis\'s first colour #440154 (%02X%02X%02X)',
               @bot[0 .. 2]));

    # every row is one colour across the bar (no blended steps), and the
    # rows change monotonically in green (viridis's green rises
    # monotonically from #440154 to #FDE725)
    my $mono = 1;
    for my $i (1 .. $#rows) {
        my @a = png_pixel($img, $bx, $rows[$i - 1]);
        my @b = png_pixel($img, $bx, $rows[$i]);
        $mono = 0 if $b[1] > $a[1];
    }
    ok($mono, 'green falls row by row from the top of the bar');

    # the middle bubble (t = 5, the middle of the limits) has the colour
    # of the bar's middle row
    my $mid = $rows[int(@rows / 2)];
    my @bar = png_pixel($img, $bx, $mid);
    my ($best, @bub) = (1e9);
    for my $y (0 .. $img->{height} - 1) {
        for my $x (0 .. 390) {
            my @p = png_pixel($img, $x, $y);
            next if $p[0] == $p[1] && $p[1] == $p[2];
            my $d = abs($p[0] - $bar[0]) + abs($p[1] - $bar[1])
                    + abs($p[2] - $bar[2]);
            ($best, @bub) = ($d, @p) if $d < $best;
        }
    }
    cmp_ok($best, '<=', 12,
           sprintf('a bubble has the bar\'s mid colour %02X%02X%02X '
                   . '(closest %02X%02X%02X)', @bar[0 .. 2], @bub[0 .. 2]));
}

# -- size and colour on one column: one merged legend ---------------------

{
    my %spec = (
        width => 560, height => 400, alpha => 1,
        data => { x => [1, 2, 3, 4], y => [1, 3, 2, 4],
                  v => [10, 40, 90, 160] },
        mapping => { x => 'x', y => 'y', size => 'v', color => 'v' },
    );
    my $svg = post_chart('/chart.svg', \%spec)->{body} // '';
    my @circles = $svg =~ /<circle [^>]*>/g;
    my %fill_of_r;
    for (@circles) {
        my ($r) = /\br="([\d.]+)"/;
        my ($f) = /\bfill="(#[0-9a-f]{6})"/;
        push @{ $fill_of_r{$r} }, $f;
    }
    is(scalar @circles, 8, 'merged legend: 4 bubbles and 4 size keys');
    is(scalar(() = $svg =~ /<rect [^>]*height="1"/g), 0,
       'merged legend: no colour bar');
    is(scalar(() = $svg =~ />v<\/text>/g), 1, 'merged legend: one title');
    # the largest break (160) is the largest bubble: same radius, same
    # colour (viridis's end), in the plot and in the legend
    is_deeply($fill_of_r{20}, ['#fde725', '#fde725'],
              'merged legend: the 160 key has the 160 bubble\'s colour');

    # a colour title of its own keeps two legends, as ggplot2 does
    $svg = post_chart('/chart.svg', { %spec, color => { title => 'colour' } })
           ->{body} // '';
    cmp_ok(scalar(() = $svg =~ /<rect [^>]*height="1"/g), '>=', 100,
           'different titles: the colour bar is back');
}

ok(!$ngx->error_log_crashes, 'no worker crashed');

done_testing();
