#!/usr/bin/perl
# Renders in an nginx thread pool (bubble_thread_pool): results identical to
# inline renders, the event loop stays free while a heavy chart renders, and
# a full queue answers 503 + Retry-After in JSON instead of stalling.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);
use BubbleTest;

require_module();

my $w1 = bench_spec('w1');

# heavy: over half a second of drawing (BubbleTest; W3 itself ~35 ms)
my $w3 = heavy_spec();

# the fields of /proc/PID/task/TID/stat after the command, for each thread
# of a process: { TID => [fields] }; [0] is field 3 (state), [11] and [12]
# utime and stime (clock ticks), [16] the nice value (field 19)
sub thread_stats {
    my ($pid) = @_;
    my %stat;
    for my $stat (glob "/proc/$pid/task/*/stat") {
        my ($tid) = $stat =~ m{/task/(\d+)/};
        open(my $fh, '<', $stat) or next;
        my $line = <$fh>;
        close $fh;
        $stat{$tid} = [ split ' ', substr($line, rindex($line, ')') + 2) ];
    }
    return \%stat;
}

# the niceness of each thread of a process: { TID => nice }
sub thread_nices {
    my $st = thread_stats(@_);
    return { map { ($_ => $st->{$_}[16]) } keys %$st };
}

# CPU time of each thread of a process, in clock ticks: { TID => ticks }
sub thread_ticks {
    my $st = thread_stats(@_);
    return { map { ($_ => $st->{$_}[11] + $st->{$_}[12]) } keys %$st };
}

# Open one connection per request, send them all, then read all responses
# as they come.  Returns the parsed responses in request order, each with
# {done} = the time its last byte arrived.
# called before connecting for each request after the first: waits for
# what the next request must follow
our $BEFORE_NEXT;

sub concurrent {
    my ($port, @reqs) = @_;
    my (@socks, %buf, %done);
    my $sel = IO::Select->new;
    for my $i (0 .. $#reqs) {
        $BEFORE_NEXT->() if $i && $BEFORE_NEXT;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                      Proto => 'tcp') or die "connect: $!";
        $s->blocking(0);
        my $raw = $reqs[$i];
        while (length $raw) {
            my $n = syswrite($s, $raw);
            if (defined $n) { substr($raw, 0, $n) = ''; next; }
            IO::Select->new($s)->can_write(5) or die "send timed out";
        }
        $socks[$i] = $s;
        $buf{$s} = '';
        $sel->add($s);
    }
    my %index = map { ($socks[$_] => $_) } 0 .. $#socks;
    my $deadline = time + 60;
    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(1)) {
            my $n = sysread($s, $buf{$s}, 65536, length $buf{$s});
            next if !defined $n && $!{EAGAIN};
            if (!$n) {
                $done{$s} = time;
                $sel->remove($s);
                close $s;
            }
        }
    }
    return map {
        my $r = BubbleTest::_parse_response($buf{$socks[$_]}, 'GET');
        $r->{done} = $done{$socks[$_]};
        $r;
    } 0 .. $#socks;
}

sub post_raw {
    my ($uri, $body) = @_;
    return "POST $uri HTTP/1.0\r\nHost: localhost\r\n"
         . "Content-Type: application/json\r\n"
         . "Content-Length: " . length($body) . "\r\n\r\n" . $body;
}

sub get_raw {
    my ($uri) = @_;
    return "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";
}

my $location = q{
    location /chart {
        bubble;
        bubble_thread_pool bubble;
    }
    location /inline {
        bubble;
        bubble_thread_pool off;
    }
    location = /ping {
        return 200 "pong\n";
    }
};

# --- results through the pool equal inline results ------------------------

{
    my $ngx = start_nginx(main_conf => 'thread_pool bubble threads=2;',
                          server_conf => $location);

    my $t = post_chart('/chart.svg', $w1);
    my $i = post_chart('/inline.svg', $w1);
    is($t->{status}, 200, 'threaded W1 SVG: 200');
    ok(length $t->{body} > 1000 && $t->{body} eq $i->{body},
       'threaded SVG is byte-identical to the inline one');

    my $p = post_chart('/chart.png', $w1);
    my $info = png_info($p->{body});
    ok($info->{valid} && $info->{width} == 800 && $info->{height} == 600,
       'threaded W1 PNG: valid 800x600');

    # eight at once, on two threads
    my @res = concurrent($ngx->{port}, map { post_raw('/chart.png', $w1) } 1 .. 8);
    is(scalar(grep { $_->{status} == 200 && png_info($_->{body})->{valid} } @res),
       8, '8 concurrent threaded W1 renders: all 200 with valid PNGs');

    # render threads run at nice 10, the event loops (main threads) at 0
    for my $pid ($ngx->worker_pids) {
        my $n = thread_nices($pid);
        my @others = map { $n->{$_} } grep { $_ != $pid } sort keys %$n;
        is($n->{$pid}, 0, "worker $pid: the event loop at nice 0");
        ok(@others && !grep({ $_ != 10 } @others),
           "worker $pid: its render threads at nice 10 (@others)");
    }

    my $bad = post_chart('/chart.png', '{"data":[{"x":1,"y":"a"}]}');
    json_error_ok($bad, 400, 'invalid_spec', 'bad spec in a pool location (refused before posting)');

    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# --- the event loop stays free during a heavy render ----------------------
#
# One worker, one render thread.  A heavy render (~0.6 s) starts, then a
# cheap request arrives on the same worker.  Through the pool the cheap one
# is answered long before the render ends; inline it has to wait for it.

sub ping_vs_heavy {
    my ($ngx, $uri, $threaded) = @_;
    my ($pid) = $ngx->worker_pids;
    # the ping connects once the render has run for 50 ms (5 ticks) of
    # CPU, on a render thread or on the event loop: sent at once, a loaded
    # machine could let nginx answer the ping before the render starts
    my $busy = sub {
        my $t = thread_ticks($pid);
        return grep { ($_ == $pid) != $threaded } keys %$t;
    };
    my $before = thread_ticks($pid);
    local $BEFORE_NEXT = sub {
        wait_for(30, sub {
            my $now = thread_ticks($pid);
            return grep { $now->{$_} - ($before->{$_} // 0) >= 5 }
                   $busy->();
        }) or diag("$uri: the render did not start within 30 s");
    };
    my @res = concurrent($ngx->{port}, post_raw($uri, $w3), get_raw('/ping'));
    return @res;
}

{
    my $ngx = start_nginx(main_conf => 'thread_pool bubble threads=1;',
                          server_conf => $location, workers => 1);

    my ($heavy, $ping) = ping_vs_heavy($ngx, '/chart.png', 1);
    is($heavy->{status}, 200, 'threaded W3: 200');
    is($ping->{status}, 200, 'ping during a threaded W3: 200');
    ok($ping->{done} < $heavy->{done},
       sprintf('threaded: ping answered %.0f ms before the render ended',
               1000 * ($heavy->{done} - $ping->{done})));

    ($heavy, $ping) = ping_vs_heavy($ngx, '/inline.png', 0);
    is($heavy->{status}, 200, 'inline W3: 200');
    ok($ping->{done} >= $heavy->{done} - 0.05,
       'inline: the ping waited for the render (the test can tell the difference)');
}

# --- a full queue sheds load with 503 + Retry-After -----------------------

{
    my $ngx = start_nginx(main_conf => 'thread_pool bubble threads=1 max_queue=1;',
                          server_conf => $location, workers => 1);

    my @res = concurrent($ngx->{port}, map { post_raw('/chart.png', $w3) } 1 .. 6);
    my @ok = grep { $_->{status} == 200 } @res;
    my @busy = grep { $_->{status} == 503 } @res;

    is(scalar(@ok) + scalar(@busy), 6, 'every answer is 200 or 503');
    ok(@ok >= 1, scalar(@ok) . ' renders served');
    ok(@busy >= 1, scalar(@busy) . ' refused while the queue was full');
    is(scalar(grep { png_info($_->{body})->{valid} } @ok), scalar(@ok),
       'every 200 is a complete PNG');
    is(scalar(grep { ($_->{headers}{'retry-after'} // '') =~ /^\d+$/ } @busy),
       scalar(@busy), 'every 503 carries Retry-After');
    is(scalar(grep { (json_decode($_->{body}) // {})->{error} eq 'overloaded' } @busy),
       scalar(@busy), 'every 503 is a JSON "overloaded" error');

    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# --- configuration ---------------------------------------------------------

{
    my ($ok, $out) = nginx_config_test(server_conf => q{
        location /chart { bubble; bubble_thread_pool nosuchpool; }
    });
    ok(!$ok, 'an undefined thread pool fails nginx -t');
    like($out, qr/nosuchpool/, 'and the message names it');
}

done_testing();
