#!/usr/bin/perl
# Behind nginx's proxy_cache (as behind a CDN): the chart URL is cached like
# a file, the second GET is a cache HIT with the same bytes, and the cache
# revalidates with the module's ETag (304 from the module, body from cache).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;

require_module();

# One nginx, two servers: the front caches, the back renders.
my $ngx = start_nginx(
    http_conf => q{
        proxy_cache_path cache levels=1 keys_zone=charts:1m max_size=16m;
    },
    server_conf => q{
        location /chart {
            bubble;
        }
        location /front/ {
            # variables in proxy_pass: the URI goes as rewritten here
            rewrite ^/front(/.*)$ $1 break;
            proxy_pass http://127.0.0.1:$server_port;
            proxy_cache charts;
            proxy_cache_valid 200 10m;
            proxy_cache_revalidate on;
            add_header X-Cache-Status $upstream_cache_status always;
        }
    });

my $spec = bench_spec('w2');
(my $url = `python3 $FindBin::Bin/../tools/bubble-url --format png /dev/stdin <<'EOF'\n$spec\nEOF\n`) =~ s/\s+$//;
like($url, qr{^/chart/[A-Za-z0-9_-]+\.png$}, 'compact URL built');

my $first = http_request('GET', "/front$url");
is($first->{status}, 200, 'first GET through the cache: 200');
is($first->{headers}{'x-cache-status'}, 'MISS', 'first GET: MISS');
ok(png_info($first->{body})->{valid}, 'first GET: a valid PNG');
like($first->{headers}{'cache-control'} // '', qr/immutable/,
     'Cache-Control passes through the proxy');

my $second = http_request('GET', "/front$url");
is($second->{headers}{'x-cache-status'}, 'HIT', 'second GET: HIT');
ok($second->{body} eq $first->{body}, 'HIT has the same bytes');
is($second->{headers}{etag}, $first->{headers}{etag}, 'HIT keeps the ETag');

my $inm = http_request('GET', "/front$url",
                       headers => { 'If-None-Match' => $first->{headers}{etag} });
is($inm->{status}, 304, 'client revalidation against the cache: 304');

is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');

done_testing();
