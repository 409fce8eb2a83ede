#!/usr/bin/perl
# bubble_malloc_tuning (on by default): after a burst of renders a worker
# gives its heap back and is at its baseline again once idle.
#
# Two workers and a thread pool; bursts of W1 PNG, W2 PNG, W3 SVG and
# large canvases from 4 connections at a time.  A worker's anonymous
# memory (RssAnon) is read once the worker is idle (the trim runs when its
# last reservation ends, and on the 1 s timer): after one round of every
# burst that is the baseline, and two more rounds must not leave more than
# 1 MiB above it in any worker.  glibc's own settings (bubble_malloc_tuning
# off) keep what the bursts took, which shows the check can fail.
# docs/memory.md, "Allocator hygiene", has the figures behind the settings.
#
# musl (make test-musl) has no settings or trim: its allocator unmaps the
# large blocks on free, so every render faulted its canvas in afresh.
# There the module keeps a render's large blocks for the next one and
# frees them when the worker idles (ngx_http_bubble_keep.c): it says so at
# start, a W1 burst takes under half the page faults a render it takes
# with "off", and the same bursts leave the same idle baseline as "off"
# (docs/memory.md, "musl").

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use List::Util qw(sum);
use POSIX ();
use Time::HiRes qw(sleep);
use BubbleTest;

require_module();

my $w2 = json_decode(bench_spec('w2'));
my @BURSTS = (
    ['W1 PNG', '/chart.png', bench_spec('w1')],
    ['W2 PNG', '/chart.png', bench_spec('w2')],
    ['W3 SVG', '/chart.svg', bench_spec('w3')],
    ['W2 on 1448 x 1448', '/chart.png',
     json_encode({ %$w2, width => 1448, height => 1448 })],
);
my $CONNS = 4;          # clients at once
my $EACH = 4;           # requests each, a burst
my $SLACK = 1024;       # kB a worker may keep above its baseline

sub rss_anon_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return undef;
    while (my $line = <$fh>) {
        return $1 if $line =~ /^RssAnon:\s+(\d+) kB/;
    }
    return undef;
}

# $CONNS clients, $EACH requests each; returns how many were not 200
sub burst {
    my ($ngx, $path, $body) = @_;
    my @kids;
    for (1 .. $CONNS) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $bad = 0;
            for (1 .. $EACH) {
                my $r = eval { $ngx->post_chart($path, $body) };
                $bad++ unless $r && ($r->{status} // 0) == 200;
            }
            POSIX::_exit($bad > 255 ? 255 : $bad);
        }
        push @kids, $pid;
    }
    my $bad = 0;
    for (@kids) {
        waitpid $_, 0;
        $bad += $? >> 8;
    }
    return $bad;
}

# { pid => RssAnon kB } of every worker, once idle
sub idle_readings {
    my ($ngx) = @_;
    sleep 1.5;
    my %kb;
    for my $pid ($ngx->worker_pids) {
        $kb{$pid} = rss_anon_kb($pid);
    }
    return \%kb;
}

# the workers' minor page faults a render over a W1 PNG burst
sub w1_faults {
    my ($ngx) = @_;
    my $faults = sub {
        my $n = 0;
        for my $pid ($ngx->worker_pids) {
            open my $fh, '<', "/proc/$pid/stat" or next;
            my (undef, $rest) = split /\) /, scalar(<$fh>), 2;
            $n += (split ' ', $rest)[7];
        }
        return $n;
    };
    my $before = $faults->();
    my $bad = burst($ngx, '/chart.png', $BURSTS[0][2]);
    is($bad, 0, 'the W1 burst: every render 200');
    return ($faults->() - $before) / ($CONNS * $EACH);
}

# every worker's highest idle reading at most $SLACK kB above its baseline
sub within_slack {
    my ($label, $base, $max) = @_;
    for my $pid (sort keys %$base) {
        my $grew = ($max->{$pid} // 0) - $base->{$pid};
        ok(defined $max->{$pid} && $grew <= $SLACK,
           "${label}worker $pid: idle RssAnon at most $SLACK kB above its "
           . "baseline $base->{$pid} kB after every burst (highest: "
           . ($max->{$pid} // 'none') . " kB, +$grew kB)");
    }
}

# one round of every burst; the highest idle reading of each worker
sub rounds {
    my ($ngx, $n) = @_;
    my (%max, $bad);
    for (1 .. $n) {
        for my $b (@BURSTS) {
            $bad += burst($ngx, $b->[1], $b->[2]);
            my $rd = idle_readings($ngx);
            for my $pid (keys %$rd) {
                $max{$pid} = $rd->{$pid}
                    if !defined $max{$pid} || $rd->{$pid} > $max{$pid};
            }
        }
    }
    return (\%max, $bad);
}

# whether a worker runs on musl, not on glibc: musl's libc, which is its
# loader too, is mapped (Alpine's /lib/ld-musl-x86_64.so.1, or Debian's
# musl: /usr/lib/x86_64-linux-musl/libc.so)
sub on_musl {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/maps" or die "/proc/$pid/maps: $!";
    return scalar grep { m{/ld-musl-[^/]*\.so|-linux-musl/libc\.so} } <$fh>;
}

sub server {
    my ($tuning, $zone) = @_;
    $zone //= 'bubble_zone bubble:1m;';
    return start_nginx(
        workers => 2,
        main_conf => 'thread_pool bubble threads=2;',
        http_conf => "$zone bubble_malloc_tuning $tuning;",
        server_conf => q{
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_body_size 4m;
            }
        });
}

# --- on (the default) ---------------------------------------------------------

my $on_idle;                    # kB, both workers, after the warm-up round
my $on_faults;                  # page faults a W1 PNG, tuning on
my $musl;                       # the nginx under test is a musl build

{
    my $ngx = server('on');
    $musl = on_musl(($ngx->worker_pids)[0]);
    my $notice = qr/bubble_malloc_tuning: the C library's allocator is not glibc's: canvases are kept between renders/;
    if ($musl) {
        ok(wait_for(5, sub { error_log_content($ngx) =~ $notice }),
           'musl: the module says it keeps canvases between renders');
    } else {
        unlike(error_log_content($ngx), $notice, 'glibc: no such notice');
    }
    my (undef, $bad0) = rounds($ngx, 1);
    my $base = idle_readings($ngx);
    is($bad0, 0, 'warm-up: every render 200');
    is(scalar keys %$base, 2, 'two workers');
    $on_idle = sum(values %$base);

    $on_faults = w1_faults($ngx);

    my ($max, $bad) = rounds($ngx, 2);
    is($bad, 0, 'two more rounds: every render 200');
    within_slack('', $base, $max);
    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
    $ngx->stop;
}

# --- off: glibc's defaults keep what the bursts took --------------------------

{
    my $ngx = server('off');
    my (undef, $bad) = rounds($ngx, 1);
    my $base = idle_readings($ngx);
    is($bad, 0, 'off: every render 200');
    my $off_idle = sum(values %$base);
    my $off_faults = w1_faults($ngx);
    if ($musl) {
        ok($on_faults < $off_faults / 2,
           sprintf('musl: a W1 PNG takes %.0f page faults with the canvases '
                   . 'kept, %.0f without', $on_faults, $off_faults));
        # nothing tuned either way: the same baseline, within the slack
        # of each worker
        ok(abs($off_idle - $on_idle) <= 2 * $SLACK,
           "off (musl): the idle workers keep $off_idle kB of anonymous "
           . "memory after the warm-up round, as with it on ($on_idle kB)");
    } else {
        ok($off_idle - $on_idle > 4 * $SLACK,
           "off: the idle workers keep $off_idle kB of anonymous memory "
           . "after the warm-up round, $on_idle kB with the tuning on");
    }
    $ngx->stop;
}

# --- on, without a bubble_zone (no zone timer): idle is idle all the same ------

{
    my $ngx = server('on', '');
    my (undef, $bad0) = rounds($ngx, 1);
    my $base = idle_readings($ngx);
    is($bad0, 0, 'no zone: warm-up: every render 200');
    my $idle = sum(values %$base);
    ok(abs($idle - $on_idle) <= 2 * $SLACK,
       "no zone: the idle workers keep $idle kB of anonymous memory after "
       . "the warm-up round, as with a zone ($on_idle kB)");
    my ($max, $bad) = rounds($ngx, 1);
    is($bad, 0, 'no zone: another round: every render 200');
    within_slack('no zone: ', $base, $max);
    $ngx->stop;
}

done_testing();
