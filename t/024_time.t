#!/usr/bin/perl
# A time budget (issue 16): bubble_max_render_time.
#
#   - the 5.8 KB compact URL of 64 colour categories of long Arabic text
#     (20 KB each, in a legend: over a second of text shaping; 1.3 MB
#     once inflated) is refused at once with 413 and a message that says
#     why, under a budget of 500 ms; under 10 s it renders, within it;
#   - the refusal is reason "limits", in the metrics and the log variable;
#   - a render that overruns its budget anyway (here: a worker starved of
#     CPU by a busy loop on its core) is counted and logged.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use File::Temp ();
use Time::HiRes qw(sleep time);
use BubbleTest;

require_module();

my $ROOT = $ENV{BUBBLE_ROOT} or die "BUBBLE_ROOT is not set\n";

# tests/overload/specs.py writes the URL
my $dir = File::Temp->newdir('bubble-specs-XXXXXX', TMPDIR => 1);
system('python3', "$ROOT/tests/overload/specs.py", $dir->dirname) == 0
    or die "tests/overload/specs.py failed\n";
chomp(my $url = read_file($dir->dirname . '/arabic.url'));
ok(length($url) > 5000 && length($url) < 6500,
   'the legend-text URL: ' . length($url) . ' bytes');

my $w1 = bench_spec('w1');

sub status {
    my ($ngx) = @_;
    my $r = $ngx->http_request('GET', '/status?format=json', timeout => 10);
    return json_decode($r->{body}) // {};
}

my $log_format = q{log_format bubble '$status rt=$bubble_render_time }
    . q{rej=[$bubble_reject_reason]';};

# --- refused at once under 500 ms, rendered under 10 s -----------------------

{
    my $ngx = start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=2;',
        http_conf => "$log_format\nbubble_zone bubble:1m;",
        server_conf => q{
            access_log access.log bubble;
            large_client_header_buffers 4 16k;
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_body_size 8m;
                bubble_max_url_length 16k;
                bubble_max_render_time 500ms;
            }
            location /slow/chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_body_size 8m;
                bubble_max_url_length 16k;
                bubble_max_render_time 10s;
            }
            location = /status { bubble_status; }
        });

    my $t0 = time;
    my $r = $ngx->http_request('GET', $url, timeout => 30);
    my $took = time - $t0;
    my $j = json_error_ok($r, 413, 'too_large', 'over 500 ms');
    like($j->{message} // '',
         qr/^this chart would take an estimated \d+\.\d s to render, over the 0\.5 s limit \(bubble_max_render_time\)/,
         'the message gives the estimate and the limit')
        or diag($j->{message});
    cmp_ok($took, '<', 0.5, sprintf('refused quickly: %.3f s', $took));

    my $st = {};
    ok(wait_for(2, sub {
           $st = status($ngx);
           ($st->{refusals_total}{limits} // 0) == 1;
       }), 'refusals_total{limits} 1');
    is($st->{renders}, 0, 'nothing admitted, nothing reserved');

    $t0 = time;
    $r = $ngx->http_request('GET', "/slow$url", timeout => 60);
    $took = time - $t0;
    is($r->{status}, 200, sprintf('under 10 s: 200 after %.2f s', $took));
    ok(png_info($r->{body})->{valid}, 'a valid PNG');

    my @log = split /\n/, read_file($ngx->dir . '/access.log');
    is(scalar(grep { /^413 rt=- rej=\[limits\]$/ } @log), 1,
       'access log: 413 rej=[limits]');
    my ($rt) = map { /^200 rt=([\d.]+) / ? $1 : () } @log;
    ok(defined $rt && $rt < 10, 'access log: rendered in ' . ($rt // '?')
       . ' s, within the 10 s budget');

    $st = status($ngx);
    is($st->{overruns}, 0, 'no overrun');
    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# --- an overrun is counted and logged -----------------------------------------
#
# One worker on CPU 0 at the lowest priority (worker_priority 19; its
# render thread stays there; with the kernel's autogroups, which share a
# core between sessions whatever their nice, nginx's session at nice 19
# too), and a busy loop on CPU 0 at nice 0 while W1 at 2048 x 2048
# renders (~16 ms of CPU, estimated ~55 ms): the render gets ~1.5% of the
# core, and takes many times its estimate in wall time.

SKIP: {
    skip 'taskset is missing', 6 unless `command -v taskset 2>/dev/null`;

    my $ngx = start_nginx(
        workers => 1,
        main_conf => "thread_pool bubble threads=1;\n"
                   . "worker_priority 19;\nworker_cpu_affinity 1;",
        http_conf => 'bubble_zone bubble:1m;',
        server_conf => q{
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_render_time 80ms;
            }
            location = /status { bubble_status; }
        });

    my $autogroup = '/proc/' . $ngx->master_pid . '/autogroup';
    if (-e $autogroup && open my $ag, '>', $autogroup) {
        print $ag "19\n";
        close $ag;
    }

    my $hog = fork;
    die "fork: $!" unless defined $hog;
    if (!$hog) {
        exec('taskset', '-c', '0', 'perl', '-e',
             'my $t = time + 20; 1 while time < $t') or POSIX::_exit(1);
    }

    # the busy loop is running on CPU 0
    ok(wait_for(5, sub {
           open my $fh, '<', "/proc/$hog/stat" or return 0;
           my $s = <$fh>;
           return ($s // '') =~ /^\d+ \([^)]*\) R/;
       }), 'a busy loop on CPU 0');

    my $large = json_encode({ %{ json_decode($w1) }, width => 2048,
                              height => 2048 });
    my ($over, $r) = (0, undef);
    for my $i (1 .. 5) {
        $r = $ngx->post_chart('/chart.png', $large, timeout => 60);
        last if ($r->{status} // 0) != 200;
        $over = status($ngx)->{overruns} // 0;
        last if $over;
    }

    kill 'KILL', $hog;
    waitpid($hog, 0);

    is($r->{status}, 200, 'W1 at 2048 x 2048 is admitted (estimated under '
       . '80 ms): 200');
    cmp_ok($over, '>=', 1, "an overrun counted ($over)");
    my $m = $ngx->http_request('GET', '/status')->{body} // '';
    like($m, qr/^bubble_render_overruns_total [1-9]/m,
         'bubble_render_overruns_total');
    like($ngx->error_log_content,
         qr/a render took \d+\.\d+ s, over the 0\.080 s of bubble_max_render_time \(estimated \d+\.\d+ s\)/,
         'error.log says so, with the estimate');
    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

done_testing();
