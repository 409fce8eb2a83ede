#!/usr/bin/perl
# Cache pins of dead workers are reclaimed (issue 16):
#
# Slow readers hold responses sent from bubble_cache_zone (each request
# pins its entry); the entries are evicted meanwhile, so their bytes are
# "held" and show in the metrics; then every worker is killed with
# SIGKILL.  The workers nginx starts in their place undo the dead
# processes' pins: pins 0, held bytes 0, the zone takes new entries again
# (before, the entries stayed allocated until the zone was recreated,
# through reloads, and nothing showed them).  A reload after the kill
# keeps it so.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use IO::Socket::INET ();
use Socket ();
use Compress::Zlib ();
use MIME::Base64 ();
use BubbleTest;

require_module();

my $w1 = json_decode(bench_spec('w1'));
my $w2 = json_decode(bench_spec('w2'));

# /chart/<base64url(raw deflate(JSON))>.png, as tools/bubble-url builds
sub compact {
    my ($spec) = @_;
    my ($d) = Compress::Zlib::deflateInit(-WindowBits => -15, -Level => 9);
    my ($out) = $d->deflate(json_encode($spec));
    my ($end) = $d->flush();
    (my $b64 = MIME::Base64::encode_base64url($out . $end)) =~ s/=+$//;
    return "/chart/$b64.png";
}

sub status {
    my ($ngx) = @_;
    my $r = $ngx->http_request('GET', '/status?format=json', timeout => 10);
    return json_decode($r->{body}) // {};
}

sub metric {
    my ($ngx, $name) = @_;
    my $r = $ngx->http_request('GET', '/status', timeout => 10);
    return ($r->{body} // '') =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}

# W1 under another title: another chart, another ~140 KB entry
sub w1_titled { return { %$w1, title => "W1 number $_[0]" } }

my $slow_port = BubbleTest::_free_port();

my $ngx = start_nginx(
    workers => 2,
    http_conf => qq{
        bubble_zone bubble:1m;
        bubble_cache_zone pinned:2m max_entry=512k;
        server {
            listen 127.0.0.1:$slow_port sndbuf=4096;
            location /chart { bubble; }
        }
    },
    server_conf => q{
        location /chart { bubble; bubble_cache_header on; }
        location = /status { bubble_status; }
    });

ok(wait_for(5, sub { @{ status($ngx)->{workers} || [] } == 2 }),
   'a slot per worker');

# six entries, each sent to a reader that takes 1 KB and stalls

my @slow;
for my $n (1 .. 6) {
    my $url = compact(w1_titled($n));
    my $r = $ngx->http_request('GET', $url);
    is($r->{headers}{'x-bubble-cache'}, 'MISS', "W1 #$n stored");

    my $s = IO::Socket::INET->new(Proto => 'tcp');
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096);
    connect($s, Socket::pack_sockaddr_in($slow_port,
                                         Socket::inet_aton('127.0.0.1')))
        or die "connect: $!";
    binmode $s;
    syswrite($s, "GET $url HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    my $got = '';
    sysread($s, $got, 1024);
    like($got, qr/^HTTP\/1.1 200/, "slow reader #$n: a 200 begins");
    push @slow, $s;
}

my $st = status($ngx);
is($st->{cache}{pins}, 6, 'six pins while the readers stall');

# evict them: twenty other entries of the same size in a 2m zone
for my $n (7 .. 26) {
    $ngx->http_request('GET', compact(w1_titled($n)));
}
$st = status($ngx);
cmp_ok($st->{cache}{evictions}, '>=', 6, "evictions: $st->{cache}{evictions}");
is($st->{cache}{pins}, 6, 'still six pins');
my $held = $st->{cache}{held};
cmp_ok($held, '>', 6 * 80 * 1024,
       "the evicted entries' bytes show as held: $held");
is(metric($ngx, 'bubble_cache_held_bytes'), $held,
   'bubble_cache_held_bytes says so too');
is(metric($ngx, 'bubble_cache_pins'), 6, 'bubble_cache_pins 6');

# every worker killed while sending

my @old = $ngx->worker_pids;
kill 'KILL', @old;
my $t0 = time;

ok(wait_for(10, sub {
       my %old = map { ($_ => 1) } @old;
       my @w = grep { !$old{$_} } $ngx->worker_pids;
       @w == 2;
   }), 'the master started two new workers');

my $back = wait_for(5, sub {
    $st = status($ngx);
    return defined $st->{cache} && $st->{cache}{pins} == 0
        && $st->{cache}{held} == 0;
});
ok($back, sprintf('pins 0 and held bytes 0 after the kill (%.0f ms)',
                  1000 * (time - $t0)))
    or diag(json_encode($st->{cache}));
cmp_ok($st->{cache}{reclaimed_pins}, '>=', 6,
       "reclaimed pins: $st->{cache}{reclaimed_pins}");
cmp_ok($st->{cache}{reclaimed_bytes}, '>=', $held,
       "reclaimed bytes: $st->{cache}{reclaimed_bytes}");
is(metric($ngx, 'bubble_cache_reclaimed_pins_total'),
   $st->{cache}{reclaimed_pins}, 'bubble_cache_reclaimed_pins_total');
like($ngx->error_log_content,
     qr/bubble cache: \d+ pins of \d+ processes that are gone undone, \d+ bytes/,
     'error.log says what was given back');

close $_ for @slow;

# the bytes came back: the zone stores and serves as before
my $before = $st->{cache}{no_room};
for my $n (27 .. 46) {
    my $r = $ngx->http_request('GET', compact(w1_titled($n)));
    is($r->{status}, 200, "W1 #$n: 200") if $n == 27 || $n == 46;
}
$st = status($ngx);
is($st->{cache}{no_room}, $before, 'never out of room');
my $again = $ngx->http_request('GET', compact(w1_titled(46)));
is($again->{headers}{'x-bubble-cache'}, 'HIT', 'the newest entry: a HIT');

# and a reload keeps it so
my @gen = $ngx->worker_pids;
kill 'HUP', $ngx->master_pid;
ok(wait_for(10, sub {
       my %g = map { ($_ => 1) } @gen;
       my @w = $ngx->worker_pids;
       @w == 2 && !grep { $g{$_} } @w;
   }), 'reload: new workers');
$st = status($ngx);
is($st->{cache}{pins}, 0, 'after the reload: no pins');
is($st->{cache}{held}, 0, 'after the reload: nothing held');

my @crashes = grep { !/signal 9/ } error_log_crashes($ngx);
is_deeply(\@crashes, [], 'no worker died but those killed');

done_testing();
