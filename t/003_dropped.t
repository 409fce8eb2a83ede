#!/usr/bin/perl
# Dropped rows: rows whose x, y or mapped size is missing, null, non-finite
# (or not positive on a log scale) are left out of the chart and counted in
# X-Bubble-Dropped-Rows, like ggplot2's "Removed N rows"; a chart with no
# row left is a 400.

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

# JSON cannot say "infinity"; 1e999 is valid JSON that overflows a double.
# Encode with placeholders, then put the raw numbers in.
sub spec_json {
    my ($spec) = @_;
    my $j = json_encode($spec);
    $j =~ s/"__INF__"/1e999/g;
    $j =~ s/"__NEGINF__"/-1e999/g;
    return $j;
}

sub dropped_is {
    my ($res, $n, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->{status}, 200, "$desc: 200")
        or diag('body: ' . substr($res->{body} // '', 0, 300));
    is($res->{headers}{'x-bubble-dropped-rows'}, $n,
       "$desc: X-Bubble-Dropped-Rows: $n");
}

sub none_dropped {
    my ($res, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->{status}, 200, "$desc: 200")
        or diag('body: ' . substr($res->{body} // '', 0, 300));
    my $h = $res->{headers}{'x-bubble-dropped-rows'};
    ok(!defined $h || $h eq '0',
       "$desc: X-Bubble-Dropped-Rows absent or 0")
        or diag("X-Bubble-Dropped-Rows: $h");
}

# Ten good rows; tests spoil some of them.
sub rows {
    return [ map { +{ x => $_ + 1, y => ($_ * 7) % 10 + 1, size => $_ + 1,
                      color => $_ % 2 ? 'a' : 'b' } } 0 .. 9 ];
}

# --- nothing to drop --------------------------------------------------------

none_dropped(post_chart('/chart.png', spec_json({ data => rows() })),
             'ten good rows');
none_dropped(post_chart('/chart.png', bench_spec('w1')), 'W1');
none_dropped(post_chart('/chart.png', bench_spec('w2')), 'W2');

# --- row form ---------------------------------------------------------------

{
    my $d = rows();
    $d->[1]{x} = undef;                 # null x
    $d->[3]{size} = undef;              # null mapped size
    delete $d->[7]{y};                  # missing y
    $d->[8]{color} = undef;             # null colour: kept (grey), not dropped
    my $body = spec_json({ data => $d });
    my $r = post_chart('/chart.png', $body);
    dropped_is($r, 3, 'row form: null x, null size, missing y');
    ok(png_info($r->{body})->{valid}, 'row form with drops: valid PNG');

    $r = post_chart('/chart.svg', $body);
    dropped_is($r, 3, 'same rows as SVG');
}

# A number that overflows a double (1e999) is the only way JSON can carry a
# non-finite value.  It is refused, not dropped: issue 8 puts overflowing
# numbers among malformed input (4xx naming the field), and a silent drop
# would hide a broken producer.  docs/spec.md says so.
{
    my $d = rows();
    $d->[5]{y} = '__INF__';
    my $body = spec_json({ data => $d });
    like($body, qr/"y":1e999/, 'spec carries a raw 1e999');
    my $r = post_chart('/chart.png', $body);
    json_error_ok($r, 400, 'invalid_spec', 'row form: 1e999 y');
    is(json_decode($r->{body})->{path}, 'data[5].y', '1e999 y: path names the cell');
}

{
    my $d = rows();
    $d->[0]{x} = '__NEGINF__';
    $d->[9]{size} = '__INF__';
    my $r = post_chart('/chart.png', spec_json({ data => $d }));
    json_error_ok($r, 400, 'invalid_spec', 'row form: -1e999 x');
    is(json_decode($r->{body})->{path}, 'data[0].x', '-1e999 x: first bad cell named');
}

# --- column form ------------------------------------------------------------

dropped_is(post_chart('/chart.png', spec_json({ data => {
        x    => [1, undef, 3, 4, 5, 6],
        y    => [1, 2, 3, 4, 5, 6],
        size => [1, 2, 3, undef, 5, 6],
    } })), 2, 'column form: null x, null size');

{
    my $r = post_chart('/chart.png', spec_json({ data => {
        x    => [1, 2, 3, 4, 5, 6],
        y    => [1, 2, '__NEGINF__', 4, 5, 6],
    } }));
    json_error_ok($r, 400, 'invalid_spec', 'column form: -1e999 y');
    is(json_decode($r->{body})->{path}, 'data.y[2]', '-1e999 y: path data.y[2]');
}

# --- only mapped aesthetics count ---------------------------------------------

{
    my $d = rows();
    $_->{other} = undef for @$d;        # an unmapped column of nulls
    none_dropped(post_chart('/chart.png', spec_json({ data => $d })),
                 'nulls in an unmapped column');
}

{
    # size mapped to "pop": nulls in "pop" drop rows, nulls in "size" don't.
    my $d = rows();
    $_->{pop} = 100 for @$d;
    $d->[2]{pop} = undef;
    $d->[4]{size} = undef;
    dropped_is(post_chart('/chart.png',
                          spec_json({ data => $d,
                                      mapping => { size => 'pop' } })),
               1, 'size mapped to "pop": only the null pop counts');
}

# --- log scale: not positive is dropped ---------------------------------------

dropped_is(post_chart('/chart.png', spec_json({
        x => { scale => 'log10' },
        data => { x => [0, -1, 1, 10, 100], y => [1, 2, 3, 4, 5] },
    })), 2, 'log10 x: 0 and -1 dropped');

# --- everything dropped --------------------------------------------------------

{
    my $r = post_chart('/chart.png', spec_json({ data => [
        { x => undef, y => 1 }, { x => 2, y => undef },
        { x => 3, y => '__INF__' } ] }));
    json_error_ok($r, 400, 'invalid_spec', 'all rows dropped');
    unlike($r->{headers}{'content-type'} // '', qr/^image/,
           'all rows dropped: no image');
}

{
    my $r = post_chart('/chart.png', spec_json({
        x => { scale => 'log10' },
        data => { x => [0, -5], y => [1, 2] } }));
    json_error_ok($r, 400, 'invalid_spec', 'all rows dropped on a log scale');
}

is_deeply([error_log_crashes($ngx)], [], 'no worker exited on a signal');

done_testing();
