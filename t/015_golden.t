#!/usr/bin/perl
# Golden SVGs (issue 3): every example spec and the W1/W2 workloads,
# POSTed to /chart.svg through nginx, must give byte for byte the SVG in
# t/golden/.  Output is deterministic (same spec, same bytes), so any
# difference is a change in rendering: look at it, and when it is meant,
# regenerate with `make golden` (BUBBLE_GOLDEN_UPDATE=1) and commit the
# new files with the change that made them.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Basename qw(basename);
use BubbleTest;

require_module();

my $root = $ENV{BUBBLE_ROOT} // "$FindBin::Bin/..";
my $golden = "$FindBin::Bin/golden";
my $update = $ENV{BUBBLE_GOLDEN_UPDATE};

my $ngx = start_nginx(server_conf => q{
    location /chart {
        bubble;
    }
});

my @specs = (sort(glob("$root/examples/*.json")),
             bench_path('w1'), bench_path('w2'));
cmp_ok(scalar @specs, '>=', 16, 'the examples and W1, W2');

mkdir $golden if $update && !-d $golden;

for my $path (@specs) {
    my $name = basename($path, '.json');
    my $res = post_chart('/chart.svg', read_file($path));
    is($res->{status}, 200, "$name: 200")
        or diag(substr($res->{body} // '', 0, 300));
    my $file = "$golden/$name.svg";

    if ($update) {
        open my $fh, '>:raw', $file or die "$file: $!";
        print $fh $res->{body};
        close $fh;
        pass("$name: golden file written");
        next;
    }

    ok(-f $file, "$name: golden file exists") or next;
    my $want = read_file($file);
    my $got = $res->{body} // '';
    if ($got eq $want) {
        pass("$name: SVG byte for byte as t/golden/$name.svg");
        next;
    }
    # show where they part
    my $i = 0;
    $i++ while $i < length($got) && $i < length($want)
               && substr($got, $i, 1) eq substr($want, $i, 1);
    fail("$name: SVG byte for byte as t/golden/$name.svg");
    diag("first difference at byte $i of " . length($got) . " (golden "
         . length($want) . "):\n  got:    " . substr($got, $i - 40 < 0 ? 0
         : $i - 40, 120) . "\n  golden: " . substr($want, $i - 40 < 0 ? 0
         : $i - 40, 120));
}

ok(!$ngx->error_log_crashes, 'no worker crashed');

done_testing();
