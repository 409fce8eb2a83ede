#!/usr/bin/perl
# The admission queue (issue 16): bubble_queue, bubble_queue_timeout.
#
#   - a render that does not fit the budget now waits, and renders once
#     memory is free, instead of a 503 at once;
#   - past bubble_queue_timeout: 503 + Retry-After, and the message says
#     how long it waited; with bubble_queue places taken: 503 at once;
#     with "bubble_queue 0": 503 at once, as before the queue; a chart
#     over the whole budget never waits;
#   - arrival order across workers within a cost class;
#   - between cost classes, deficit round robin: cheap charts that arrive
#     behind expensive ones are not served after all of them;
#   - the counters and the wait histogram, $bubble_reject_reason.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(sleep time);
use BubbleTest;

require_module();

my $w1 = json_decode(bench_spec('w1'));
my $w2 = bench_spec('w2');

# a slow chart: 30000 bubbles on 4096 x 4096 (BubbleTest)
my $slow = slow_spec(13);

sub status {
    my ($ngx) = @_;
    my $r = $ngx->http_request('GET', '/status?format=json', timeout => 10);
    return json_decode($r->{body}) // {};
}

sub send_async {
    my ($ngx, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ngx->port, Proto => 'tcp')
        or die "connect: $!";
    binmode $s;
    local $SIG{PIPE} = 'IGNORE';
    BubbleTest::_send_all($s, "POST $path HTTP/1.0\r\nHost: localhost\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n" . $body);
    return $s;
}

sub read_async {
    my ($s, $timeout) = @_;
    my ($raw) = BubbleTest::_read_all($s, $timeout // 60);
    close $s;
    return BubbleTest::_parse_response($raw, 'POST');
}

# the responses of several sockets, in the order they complete
sub completion_order {
    my ($timeout, %socks) = @_;
    my %buf = map { ($_ => '') } keys %socks;
    my %by_fd = map { (fileno($socks{$_}) => $_) } keys %socks;
    my $sel = IO::Select->new(values %socks);
    my (@order, %res);
    my $deadline = time + $timeout;
    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read($deadline - time)) {
            my $name = $by_fd{fileno $s};
            my $got = sysread($s, $buf{$name}, 65536, length $buf{$name});
            next if $got;
            $sel->remove($s);
            close $s;
            push @order, $name;
            $res{$name} = BubbleTest::_parse_response($buf{$name}, 'POST');
        }
    }
    return (\@order, \%res);
}

my $log_format = q{log_format bubble '$status rej=[$bubble_reject_reason]';};

# --- configuration ----------------------------------------------------------

{
    my $z = 'bubble_zone bubble:1m; ';
    for my $c (['bubble_queue 0', http_conf => $z . 'bubble_queue 0;'],
               ['bubble_queue 1000', http_conf => $z . 'bubble_queue 1000;'],
               ['bubble_queue_timeout in a location', http_conf => $z,
                server_conf => 'location /c { bubble; '
                             . 'bubble_queue_timeout 250ms; }'],
               ['bubble_max_render_time 10s, off',
                http_conf => $z . 'bubble_max_render_time 10s;',
                server_conf => 'location /c { bubble; '
                             . 'bubble_max_render_time off; }'])
    {
        my ($desc, %conf) = @$c;
        my ($ok, $out) = nginx_config_test(%conf);
        ok($ok, "nginx -t accepts: $desc") or diag($out);
    }

    for my $c (['bubble_queue -1', qr/invalid number/,
                http_conf => $z . 'bubble_queue -1;'],
               ['bubble_queue 100000', qr/must be between 0 and 65536/,
                http_conf => $z . 'bubble_queue 100000;'],
               ['bubble_queue in a server', qr/not allowed here/,
                http_conf => $z, server_conf => 'bubble_queue 8;'],
               ['bubble_queue_timeout soon',
                qr/"bubble_queue_timeout" directive invalid value/,
                http_conf => $z . 'bubble_queue_timeout soon;'],
               ['bubble_max_render_time 0', qr/invalid value "0"/,
                http_conf => $z . 'bubble_max_render_time 0;'],
               ['bubble_max_render_time twice', qr/is duplicate/,
                http_conf => $z . 'bubble_max_render_time 1s; '
                           . 'bubble_max_render_time 2s;'],
               ['a queue the zone cannot hold',
                qr/cannot hold the process slots of worker_processes and a queue of 60000/,
                http_conf => 'bubble_zone bubble:64k; bubble_queue 60000;'])
    {
        my ($desc, $re, %conf) = @$c;
        my ($ok, $out) = nginx_config_test(%conf);
        ok(!$ok, "nginx -t rejects: $desc");
        like($out, $re, "$desc: message") or diag($out);
    }
}

# the slow chart's estimate, from the message of a budget it does not fit
my $estimate;
{
    my $ngx = start_nginx(http_conf => 'bubble_zone b:1m; '
                                     . 'bubble_memory_limit 16m;',
                          server_conf => 'location /chart { bubble; '
                                       . 'bubble_max_body_size 2m; }');
    my $r = $ngx->post_chart('/chart.png', $slow);
    my $j = json_error_ok($r, 413, 'too_large',
                          'a chart over the whole budget: 413 at once');
    is($j->{path}, 'width', 'it names the image as what is too large');
    ok(!defined $r->{headers}{'retry-after'}, 'and no Retry-After');
    ($estimate) = ($j->{message} // '') =~ /needs an estimated ([\d.]+) MiB/;
    ok($estimate, "the slow chart's estimate: " . ($estimate // '?')
       . ' MiB');
}
$estimate //= 80;

# one slow chart fits the budget, two do not; nor does a W1 at 4096 x
# 4096 (~69 MiB) beside it, nor two of those together; a W2 thumbnail does
my $budget = int($estimate + 24) . 'm';

sub slow_server {
    my (%o) = @_;
    return start_nginx(
        workers => $o{workers} // 2,
        main_conf => 'thread_pool bubble threads=2;',
        http_conf => "$log_format\nbubble_zone bubble:1m; "
                   . "bubble_memory_limit $budget; " . ($o{http} // ''),
        server_conf => q{
            access_log access.log bubble;
            location /chart {
                bubble;
                bubble_thread_pool bubble;
                bubble_max_body_size 2m;
            }
        } . ($o{server} // '') . q{
            location = /status { bubble_status; }
        });
}

# --- a render waits for memory, then renders ----------------------------------

{
    my $ngx = slow_server(http => 'bubble_queue_timeout 60s;');
    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'a slot per worker');

    my $a = send_async($ngx, '/chart.png', $slow);
    my $st = {};
    ok(wait_for(10, sub { $st = status($ngx); ($st->{in_flight} // 0) == 1 }),
       'the first slow chart renders');

    my $t0 = time;
    my $b = send_async($ngx, '/chart.png', $slow);
    ok(wait_for(10, sub {
           $st = status($ngx);
           ($st->{queue}{waiting} // 0) == 1;
       }), 'the second waits in the queue (no 503)')
        or diag(json_encode($st));
    like($ngx->http_request('GET', '/status')->{body} // '',
         qr/^bubble_queue_waiting 1$/m, 'bubble_queue_waiting 1');

    my $ra = read_async($a);
    my $rb = read_async($b);
    is($ra->{status}, 200, 'the first: 200');
    is($rb->{status}, 200, sprintf('the second: 200, after %.1f s',
                                   time - $t0));
    ok(png_info($rb->{body})->{valid}, 'a valid PNG');

    ok(wait_for(5, sub {
           $st = status($ngx);
           ($st->{reserved} // -1) == 0 && ($st->{queue}{admitted} // 0) == 1;
       }), 'queue: 1 admitted, nothing reserved at the end')
        or diag(json_encode($st));
    is($st->{queue}{enqueued}, 1, 'queue: 1 enqueued');
    is($st->{queue}{waiting}, 0, 'queue: none waiting');

    my $m = $ngx->http_request('GET', '/status')->{body} // '';
    like($m, qr/^bubble_queue_requests_total\{outcome="admitted"\} 1$/m,
         'bubble_queue_requests_total{outcome="admitted"} 1');
    like($m, qr/^bubble_queue_wait_seconds_count 1$/m,
         'bubble_queue_wait_seconds_count 1');
    my ($sum) = $m =~ /^bubble_queue_wait_seconds_sum (\S+)$/m;
    ok($sum && $sum > 0.01, "bubble_queue_wait_seconds_sum $sum s");

    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

# --- the timeout, a full queue, no queue --------------------------------------

{
    my $ngx = slow_server(http => 'bubble_queue 1;',
                          server => q{
                              location /quick {
                                  bubble;
                                  bubble_thread_pool bubble;
                                  bubble_max_body_size 2m;
                                  bubble_queue_timeout 300ms;
                              }
                          });
    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'timeouts: a slot per worker');

    my $a = send_async($ngx, '/chart.png', $slow);
    ok(wait_for(10, sub { (status($ngx)->{in_flight} // 0) == 1 }),
       'a slow chart renders');

    # waits 300 ms, then 503
    my $t0 = time;
    my $r = $ngx->post_chart('/quick.png', $slow, timeout => 30);
    my $took = time - $t0;
    my $j = json_error_ok($r, 503, 'overloaded', 'past the timeout');
    like($r->{headers}{'retry-after'} // '', qr/^\d+$/, 'Retry-After');
    like($j->{message} // '', qr/waited 0\.\d s for memory, the limit \(bubble_queue_timeout 0\.3 s\)/,
         'the message says it waited, and the limit');
    ok($took >= 0.29 && $took < 5, sprintf('answered after %.2f s', $took));

    # one place (bubble_queue 1): the second waiter is refused at once
    my $b = send_async($ngx, '/chart.png', $slow);
    ok(wait_for(10, sub { (status($ngx)->{queue}{waiting} // 0) == 1 }),
       'a second slow chart waits');
    $t0 = time;
    $r = $ngx->post_chart('/chart.png', $slow, timeout => 30);
    $j = json_error_ok($r, 503, 'overloaded', 'the queue is full');
    like($j->{message} // '', qr/1 renders already wait for memory \(bubble_queue 1\)/,
         'the message says the queue is full');
    ok(time - $t0 < 1, 'at once');

    is(read_async($a)->{status}, 200, 'the first: 200');
    is(read_async($b)->{status}, 200, 'the one that waited: 200');

    my $st = {};
    ok(wait_for(5, sub {
           $st = status($ngx);
           ($st->{reserved} // -1) == 0
               && ($st->{refusals_total}{queue} // 0) == 2;
       }), 'refusals_total{queue} 2') or diag(json_encode($st));
    is($st->{queue}{timeouts}, 1, 'queue: 1 timeout');
    is($st->{queue}{full}, 1, 'queue: 1 full');
    my @log = split /\n/, read_file($ngx->dir . '/access.log');
    is(scalar(grep { /^503 rej=\[queue\]$/ } @log), 2,
       'access log: two rej=[queue]');

    is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');
}

{
    my $ngx = slow_server(http => 'bubble_queue 0;');
    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'no queue: a slot per worker');
    my $a = send_async($ngx, '/chart.png', $slow);
    ok(wait_for(10, sub { (status($ngx)->{in_flight} // 0) == 1 }),
       'no queue: a slow chart renders');
    my $t0 = time;
    my $r = $ngx->post_chart('/chart.png', $slow);
    my $j = json_error_ok($r, 503, 'overloaded',
                          'bubble_queue 0: refused at once');
    like($j->{message} // '', qr/budget/, 'for the budget');
    ok(time - $t0 < 1, 'at once');
    is(read_async($a)->{status}, 200, 'no queue: the first: 200');
    is(status($ngx)->{queue}{enqueued}, 0, 'no queue: nothing enqueued');
}

# --- arrival order across workers, within a class ----------------------------
#
# The slow chart holds most of the budget while five W1 charts at 4096 x
# 4096 (~69 MiB estimated, more than what is left, and two of them more
# than the budget) arrive in order on new connections, either worker's;
# they render one by one, in that order.

my $large = sub {
    json_encode({ %$w1, width => 4096, height => 4096, title => $_[0] });
};

{
    my $ngx = slow_server(http => 'bubble_queue_timeout 60s;');
    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'order: a slot per worker');

    my %socks = (slow => send_async($ngx, '/chart.png', $slow));
    ok(wait_for(10, sub { (status($ngx)->{in_flight} // 0) == 1 }),
       'order: the slow chart renders');

    for my $i (1 .. 5) {
        $socks{"n$i"} = send_async($ngx, '/chart.png', $large->("n$i"));
        ok(wait_for(10, sub {
               (status($ngx)->{queue}{enqueued} // 0) == $i
           }), "order: #$i waits");
    }

    # the slow chart's memory is released when its render ends, before
    # its large response is read: n1 may finish first; the queued ones
    # keep their order
    my ($order, $res) = completion_order(120, %socks);
    is_deeply([ grep { /^n/ } @$order ], [qw(n1 n2 n3 n4 n5)],
              'order: the queued ones answered in arrival order')
        or diag("@$order");
    is(scalar(grep { ($_->{status} // 0) == 200 } values %$res), 6,
       'order: six 200s');
}

# --- cost classes: cheap charts are not served after every expensive one -----
#
# Four large charts (W1 at 4096 x 4096) and then four W2 thumbnails arrive
# while the slow chart holds the budget.  In arrival order the thumbnails
# would wait for every large chart (each needs the memory the one before
# holds); by deficit round robin their class has its turn as soon as what
# it needs is free: they are answered before the second large chart.

{
    my $ngx = slow_server(http => 'bubble_queue_timeout 60s;');
    ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
       'classes: a slot per worker');

    my %socks = (slow => send_async($ngx, '/chart.png', $slow));
    ok(wait_for(10, sub { (status($ngx)->{in_flight} // 0) == 1 }),
       'classes: the slow chart renders');

    my $k = 0;
    for my $name (qw(L1 L2 L3 L4 s1 s2 s3 s4)) {
        my $body = $name =~ /^L/ ? $large->($name)
                 : json_encode({ %{ json_decode($w2) }, title => $name });
        $socks{$name} = send_async($ngx, '/chart.png', $body);
        $k++;
        ok(wait_for(10, sub {
               (status($ngx)->{queue}{enqueued} // 0) == $k
           }), "classes: $name waits");
    }

    my ($order, $res) = completion_order(120, %socks);
    my %at = map { ($order->[$_] => $_) } 0 .. $#$order;
    my $last_small = (sort { $b <=> $a } map { $at{"s$_"} // 99 } 1 .. 4)[0];
    ok(defined $at{L2} && $last_small < $at{L2},
       'classes: the thumbnails are answered before the second large '
       . 'chart (' . join(' ', @$order) . ')');
    is(scalar(grep { ($_->{status} // 0) == 200 } values %$res), 9,
       'classes: nine 200s');
}

done_testing();
