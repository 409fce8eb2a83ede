#!/usr/bin/perl
# A property of every chart URL: GET, HEAD and conditional GET agree, and
# no answer is a 5xx or holds a NaN.  Random valid specs (a fixed seed, so
# a failure replays) with extreme finite numbers in every numeric field
# (1e308, -1e308, 5e-324, ...), scales, limits and label formats, each as
# a compact URL in PNG, SVG or PDF:
#
#   GET           200 (a complete image), or a 4xx JSON error naming a field
#   HEAD          GET's status; for a 200 GET's length and ETag
#   If-None-Match 304 for a 200's ETag (and for "*"), GET's 4xx otherwise
#
# BUBBLE_PROPERTY_N specs (default 150), BUBBLE_PROPERTY_SEED (default
# 20261204).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Compress::Zlib ();
use MIME::Base64 ();
use B ();
use BubbleTest;

require_module();

my $N = $ENV{BUBBLE_PROPERTY_N} || 150;
my $SEED = $ENV{BUBBLE_PROPERTY_SEED} || 20261204;
srand($SEED);
diag("property test: $N specs, seed $SEED");

my $ngx = start_nginx(
    http_conf   => 'bubble_zone bubble:1m;',
    server_conf => 'location /chart { bubble; }',
);

my @EXTREME = (0, 1, -1, 0.5, 1e-300, -1e-300, 5e-324, 1e308, -1e308,
               1.7e308, -1.7e308, 1.75e308, 123.456, 1e20, -1e20, 2.5e-8);
my @FORMATS = ('%.0f', '$%.0f', '%g', '%.2e', '%99.2e', '%.99f',
               "%'99.99e", "%'.0f", '%+.3g', '%5.1f%%');

sub pick { return $_[int rand @_] }

# moderate values, at many magnitudes
sub number {
    my $v = (rand 20) - 10;
    return rand() < 0.7 ? $v : $v * 10 ** (int(rand 100) - 50);
}

# a column; one in five holds an extreme (which may not draw: a 400
# naming its cell)
sub column {
    my ($n, $positive) = @_;
    my @c = map { number() } 1 .. $n;
    $c[int rand $n] = pick(@EXTREME) if rand() < 0.2;
    # 0 + : a number for JSON::PP, even if Perl once printed it
    return [ map { 0 + ($positive ? abs($_) || 1 : $_) } @c ];
}

sub limits {
    my @l = sort { $a <=> $b }
            map { rand() < 0.2 ? pick(@EXTREME) : number() } 1 .. 2;
    return $l[0] < $l[1] ? [map { 0 + $_ } @l] : [0 + $l[0], $l[0] + 1];
}

sub axis {
    my ($data, $name) = @_;
    my %a;
    $a{scale} = pick('linear', 'log10', 'sqrt') if rand() < 0.4;
    if (($a{scale} // 'linear') ne 'linear') {
        $data->{$name} = [ map { abs($_) || 1 } @{ $data->{$name} } ];
    }
    if (rand() < 0.3) {
        my $l = limits();
        $l = [ map { abs($_) || 1e-300 } @$l ] if $a{scale};
        ($a{limits}) = $l->[0] < $l->[1] ? ($l) : ([1, 10]);
    }
    $a{labels} = pick(@FORMATS) if rand() < 0.4;
    $a{reverse} = JSON::PP::true() if rand() < 0.1;
    return \%a;
}

sub spec {
    my $n = 1 + int rand 30;
    my %data = (x => column($n), y => column($n));
    my %s = (data => \%data);
    $data{size} = column($n) if rand() < 0.5;
    if (rand() < 0.5) {
        $data{color} = rand() < 0.5 ? column($n)
                     : [ map { pick('a', 'b', 'c', 'd') } 1 .. $n ];
    }
    # now and then too small for the panel: a 400 naming width or height
    $s{width} = rand() < 0.1 ? 16 + int rand 100 : 200 + int rand 1000;
    $s{height} = rand() < 0.1 ? 16 + int rand 100 : 150 + int rand 750;
    $s{title} = 'T ' . int(rand 1000) if rand() < 0.3;
    $s{subtitle} = 'S' if rand() < 0.2;
    $s{caption} = 'C' if rand() < 0.2;
    $s{x} = axis(\%data, 'x') if rand() < 0.6;
    $s{y} = axis(\%data, 'y') if rand() < 0.6;
    if ($data{size} && rand() < 0.4) {
        $s{size} = { type => pick('area', 'radius') };
        $s{size}{limits} = limits() if rand() < 0.5;
    }
    # (a numeric test that does not turn the cell into a string for JSON)
    if ($data{color} && !grep({ !B::svref_2object(\$_)->FLAGS
                                  & (B::SVp_IOK() | B::SVp_NOK()) }
                                @{ $data{color} })
        && rand() < 0.4)
    {
        $s{color} = { limits => limits() };
    }
    return \%s;
}

sub compact {
    my ($spec, $ext) = @_;
    my ($d) = Compress::Zlib::deflateInit(-WindowBits => -15, -Level => 9);
    my ($out) = $d->deflate(json_encode($spec));
    my ($end) = $d->flush();
    (my $b64 = MIME::Base64::encode_base64url($out . $end)) =~ s/=+$//;
    return "/chart/$b64.$ext";
}

my (%seen, @bad);

for my $i (1 .. $N) {
    my $spec = spec();
    my $ext = (qw(png svg pdf))[$i % 3];
    my $u = compact($spec, $ext);
    my $what = "spec $i ($ext)";

    my $g = $ngx->http_request('GET', $u, timeout => 60);
    my $h = $ngx->http_request('HEAD', $u, timeout => 60);
    my $inm = $g->{headers}{etag} // '*';
    my $c = $ngx->http_request('GET', $u, timeout => 60,
                               headers => { 'If-None-Match' => $inm });
    $seen{$g->{status}}++;
    diag("$what: $g->{body}") if $ENV{BUBBLE_PROPERTY_WHY} && $g->{status} != 200;

    my @why;
    push @why, "GET $g->{status}" unless $g->{status} =~ /^(200|400|413)$/;
    push @why, "HEAD $h->{status}, GET $g->{status}"
        unless $h->{status} == $g->{status};

    if ($g->{status} == 200) {
        push @why, "304 expected, got $c->{status}" unless $c->{status} == 304;
        for my $k ('content-length', 'etag', 'x-bubble-dropped-rows') {
            push @why, "HEAD $k differs"
                unless ($h->{headers}{$k} // '') eq ($g->{headers}{$k} // '-');
        }
        my $b = $g->{body} // '';
        if ($ext eq 'png') {
            push @why, 'not a complete PNG' unless png_info($b)->{valid};
        } elsif ($ext eq 'svg') {
            push @why, 'SVG holds a NaN or infinity'
                if $b =~ /="[^"]*\b(?:-?nan|-?inf)\b/i;
            push @why, 'SVG not closed' unless $b =~ m{</svg>\s*$};
        } else {
            push @why, 'not a complete PDF' unless $b =~ /^%PDF-/ && $b =~ /%%EOF\s*$/;
        }
    } else {
        my $j = json_decode($g->{body}) // {};
        push @why, 'a 4xx without a field: ' . ($g->{body} // '')
            unless length($j->{path} // '');
        push @why, "If-None-Match: $c->{status}, GET $g->{status}"
            unless $c->{status} == $g->{status};
        push @why, 'a 4xx with an ETag' if defined $g->{headers}{etag};
    }

    push @bad, "$what: " . join('; ', @why) . "\n  " . json_encode($spec)
        if @why;
}

is_deeply(\@bad, [], "$N random specs: GET, HEAD and If-None-Match agree, "
          . 'no 5xx, no NaN')
    or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
diag('answers: ' . join(', ', map { "$_ x$seen{$_}" } sort keys %seen));
ok(($seen{200} // 0) > $N / 4, 'a good share of the specs draw ('
   . ($seen{200} // 0) . ')');

is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');

done_testing();
