#!/usr/bin/perl
# Chart URLs that behave like static files: readable and compact GET forms
# built by tools/bubble-url (Python) and conf/www/bubble-url.js (Node) give
# the POST's bytes; strong ETags from the chart's meaning; 304 and HEAD
# without a body; Cache-Control that nginx's own "expires" can replace;
# signed URLs with secret rotation; 414 with a hint to POST.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempfile);
use Digest::SHA ();
use BubbleTest;

require_module();

my $root = $ENV{BUBBLE_ROOT} // "$FindBin::Bin/..";
my $secret_new = 'new-secret-0123456789abcdef';
my $secret_old = 'old-secret-0123456789abcdef';

my $ngx = start_nginx(server_conf => qq{
    location /chart {
        bubble;
    }
    location /signed {
        bubble;
        bubble_url_secret $secret_new $secret_old;
    }
    location /old {
        bubble;
        bubble_url_secret $secret_old;
    }
    location /signedpost {
        bubble;
        bubble_url_secret $secret_new $secret_old;
        bubble_sign_post on;
        client_body_buffer_size 1k;     # W1's body goes to a temp file
    }
    location /signedsmall {
        bubble;
        bubble_url_secret $secret_new;
        bubble_sign_post on;
        bubble_max_body_size 1k;
    }
    location /expiring {
        bubble;
        expires 1h;
    }
    location /nocache {
        bubble;
        bubble_cache_control off;
    }
    location /short {
        bubble;
        bubble_max_url_length 2k;
        bubble_max_body_size 4k;
    }
});

sub spec_file {
    my ($text) = @_;
    my ($fh, $name) = tempfile(SUFFIX => '.json', UNLINK => 1);
    print $fh $text;
    close $fh;
    return $name;
}

sub builder {
    my ($lang, $file, @opts) = @_;
    my @cmd = $lang eq 'python'
        ? ('python3', "$root/tools/bubble-url", @opts, $file)
        : ('node', "$root/tools/bubble-url.mjs", @opts, $file);
    open(my $fh, '-|', @cmd) or die "@cmd: $!";
    my $url = <$fh>;
    close $fh;
    die "@cmd failed" if $? || !defined $url;
    chomp $url;
    return $url;
}

my $w2 = bench_spec('w2');
my $w2_file = spec_file($w2);
my $w1_file = spec_file(bench_spec('w1'));

# --- every encoding round-trips to the POST's bytes ------------------------

for my $fmt (qw(svg png pdf)) {
    my $post = post_chart("/chart.$fmt", $w2);
    is($post->{status}, 200, "POST W2 $fmt: 200");

    for my $lang (qw(python node)) {
        for my $form ('compact', 'readable') {
            my $url = builder($lang, $w2_file, '--format', $fmt,
                              $form eq 'readable' ? ('--readable') : ());
            my $get = http_request('GET', $url);
            is($get->{status}, 200, "$lang $form $fmt URL: 200");
            ok(defined $get->{body} && $get->{body} eq $post->{body},
               "$lang $form $fmt URL: same bytes as the POST");
        }
    }
}

{
    my $url = builder('python', $w1_file, '--format', 'png');
    my $r = http_request('GET', $url);
    my $info = png_info($r->{body});
    ok($info->{valid} && $info->{width} == 800, 'compact W1 URL: 800px PNG');
    note('compact W1 URL length: ' . length($url) . ' bytes');
    ok(length($url) < 8192, 'compact W1 (142 rows) fits in 8 KiB');
}

# --- ETag: strong, from the chart's meaning --------------------------------

my $etag;
{
    my $r = http_request('GET', builder('python', $w2_file, '--format', 'svg'));
    $etag = $r->{headers}{etag};
    like($etag // '', qr/^"[0-9a-f]{32}"$/, 'strong ETag of 128 bits');
    is($r->{headers}{'cache-control'}, 'public, max-age=31536000, immutable',
       'default Cache-Control: public, a year, immutable');

    my $post = post_chart('/chart.svg', $w2);
    is($post->{headers}{etag}, $etag, 'POST and GET of one chart share the ETag');

    # same meaning, different text: keys reordered, columns as rows
    my $s = json_decode($w2);
    my $d = $s->{data};
    my @rows = map { my $i = $_; +{ map { ($_ => $d->{$_}[$i]) } keys %$d } }
               0 .. $#{ $d->{x} };
    # both re-encoded by JSON::PP (15 significant digits), so equal values
    my $cols = post_chart('/chart.svg', json_encode($s));
    my $rows = post_chart('/chart.svg',
                          json_encode({ %$s, data => \@rows }));
    is($rows->{headers}{etag}, $cols->{headers}{etag},
       'row form has the column form\'s ETag');
    (my $spaced = json_encode($s)) =~ s/,/ ,\n /g;
    is(post_chart('/chart.svg', $spaced)->{headers}{etag},
       $cols->{headers}{etag}, 'whitespace does not change the ETag');

    my $png = post_chart('/chart.png', $w2);
    isnt($png->{headers}{etag}, $etag, 'another format, another ETag');

    my $other = post_chart('/chart.svg', json_encode({ %$s, alpha => 0.5 }));
    isnt($other->{headers}{etag}, $etag, 'another alpha, another ETag');
}

# --- revalidation and HEAD never render a body -----------------------------

{
    my $url = builder('python', $w2_file, '--format', 'svg');

    for my $inm ($etag, "W/$etag", "\"nope\", $etag", '*') {
        my $r = http_request('GET', $url, headers => { 'If-None-Match' => $inm });
        is($r->{status}, 304, "If-None-Match: $inm -> 304");
        is(length($r->{body} // ''), 0, "304 has no body ($inm)");
        is($r->{headers}{etag}, $etag, "304 repeats the ETag ($inm)");
    }

    my $r = http_request('GET', $url, headers => { 'If-None-Match' => '"other"' });
    is($r->{status}, 200, 'a different ETag -> 200');

    $r = http_request('HEAD', $url);
    is($r->{status}, 200, 'HEAD: 200');
    like($r->{headers}{'content-type'} // '', qr{^image/svg\+xml}, 'HEAD: Content-Type');
    is($r->{headers}{etag}, $etag, 'HEAD: ETag');
    is(length($r->{body} // ''), 0, 'HEAD: no body');
}

# --- nginx's own directives still apply ------------------------------------

{
    (my $url = builder('python', $w2_file, '--format', 'svg')) =~ s{^/chart}{/expiring};
    my $r = http_request('GET', $url);
    is($r->{status}, 200, 'expires location: 200');
    is($r->{headers}{'cache-control'}, 'max-age=3600',
       '"expires 1h" replaces our Cache-Control (one header, nginx\'s)');

    ($url = builder('python', $w2_file, '--format', 'svg')) =~ s{^/chart}{/nocache};
    $r = http_request('GET', $url);
    ok(!exists $r->{headers}{'cache-control'}, 'bubble_cache_control off: none');
}

# --- signed URLs -----------------------------------------------------------

{
    my $signed = builder('python', $w2_file, '--format', 'svg',
                         '--base', '/signed', '--secret', $secret_new);
    my $r = http_request('GET', $signed);
    is($r->{status}, 200, 'signed (python, current secret): 200');

    my $node = builder('node', $w2_file, '--format', 'svg', '--readable',
                       '--base', '/signed', '--secret', $secret_new);
    is(http_request('GET', $node)->{status}, 200,
       'signed (node, readable form): 200');

    my $old = builder('python', $w2_file, '--format', 'svg',
                      '--base', '/signed', '--secret', $secret_old);
    is(http_request('GET', $old)->{status}, 200,
       'signed with the previous secret: 200 during rotation');

    (my $only_old = $signed) =~ s{^/signed}{/old};
    json_error_ok(http_request('GET', $only_old), 403, 'forbidden',
                  'new signature where only the old secret is configured');

    (my $unsigned = $signed) =~ s/[?&]sig=.*//;
    json_error_ok(http_request('GET', $unsigned), 403, 'forbidden', 'unsigned');

    (my $tampered = $signed) =~ s/sig=(.)/'sig=' . ($1 eq 'A' ? 'B' : 'A')/e;
    json_error_ok(http_request('GET', $tampered), 403, 'forbidden',
                  'tampered signature');

    # a signature for the SVG does not open the PNG of the same spec
    (my $png = $signed) =~ s/\.svg\?/.png?/;
    json_error_ok(http_request('GET', $png), 403, 'forbidden',
                  'signature bound to the format');

    is(post_chart('/signed.svg', $w2)->{status}, 200,
       'POST is not subject to URL signing');
}

# --- signed POSTs (bubble_sign_post on) -------------------------------------

{
    # the GET's signature, over "FORMAT:" and the body's bytes
    my $sig = sub {
        my ($secret, $fmt, $body) = @_;
        (my $b64 = Digest::SHA::hmac_sha256_base64("$fmt:$body", $secret))
            =~ tr{+/}{-_};
        return substr($b64, 0, 22);
    };

    for my $case (['W2', $w2], ['W1 (a temp file)', bench_spec('w1')]) {
        my ($name, $body) = @$case;
        my $r = post_chart('/signedpost.png?sig='
                           . $sig->($secret_new, 'png', $body), $body);
        is($r->{status}, 200, "signed POST of $name: 200");
        ok(png_info($r->{body})->{valid}, "signed POST of $name: a PNG");
    }

    is(post_chart('/signedpost.png?sig=' . $sig->($secret_old, 'png', $w2),
                  $w2)->{status},
       200, 'signed POST with the previous secret: 200 during rotation');
    json_error_ok(post_chart('/signedpost.png', $w2), 403, 'forbidden',
                  'unsigned POST');

    # the body limit before the signature: declared, or counted (chunked)
    my $w1 = bench_spec('w1');
    my $w1sig = '/signedsmall.png?sig=' . $sig->($secret_new, 'png', $w1);
    json_error_ok(post_chart($w1sig, $w1), 413, 'too_large',
                  'a signed POST over bubble_max_body_size 1k');
    my $tl = json_error_ok(post_chart($w1sig, $w1, chunked => 512), 413,
                           'too_large', 'the same, chunked (no length)');
    like($tl->{message}, qr/body over 1024 bytes \(bubble_max_body_size\)/,
         'chunked: the message names the limit');
    json_error_ok(post_chart('/signedpost.svg?sig='
                             . $sig->($secret_new, 'png', $w2), $w2),
                  403, 'forbidden', 'a PNG signature on the SVG');
    (my $other = $w2) =~ s/"width": *320/"width": 321/;
    isnt($other, $w2, 'a body changed by one byte');
    json_error_ok(post_chart('/signedpost.png?sig='
                             . $sig->($secret_new, 'png', $w2), $other),
                  403, 'forbidden', 'the signature of another body');

    my ($ok, $out) = nginx_config_test(server_conf => q{
        location /chart { bubble; bubble_sign_post on; }
    });
    ok(!$ok && $out =~ /bubble_sign_post on.*needs bubble_url_secret/,
       'bubble_sign_post without a secret fails nginx -t');
}

# --- limits and broken URLs -------------------------------------------------

{
    my $long = '/short.svg?spec=' . ('%20' x 900) . '{}';
    my $r = http_request('GET', $long);
    json_error_ok($r, 414, 'uri_too_long', 'URL over bubble_max_url_length');
    like(json_decode($r->{body})->{message} // '', qr/POST/, '414 hints to POST');

    json_error_ok(http_request('GET', '/chart/not*base64url!!.png'), 400,
                  'invalid_url', 'broken base64url');
    json_error_ok(http_request('GET', '/chart/AAAAAAAAAAAAAAAA.png'), 400,
                  'invalid_url', 'not a deflate stream');

    # 64 KiB of spaces deflates to a few bytes: a bomb against a 4k limit
    open(my $py, '-|', 'python3', '-c', q{
import base64, zlib
c = zlib.compressobj(9, zlib.DEFLATED, -15)
b = c.compress(b"{" + b" " * 65536 + b"}") + c.flush()
print(base64.urlsafe_b64encode(b).rstrip(b"=").decode())
}) or die;
    my $bomb = <$py>;
    close $py;
    chomp $bomb;
    json_error_ok(http_request('GET', "/short/$bomb.png"), 413, 'too_large',
                  'deflate bomb stops at bubble_max_body_size');

    json_error_ok(http_request('GET', '/chart.png'), 400, 'invalid_spec',
                  'GET without a spec');
}

is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');

done_testing();
