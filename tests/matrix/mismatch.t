#!/usr/bin/perl
# A module is built for one nginx release: every other release refuses to
# load it with nginx's own message, and its own release loads it.
#
# BUBBLE_MATRIX_LIST: a file of lines "NAME VERSION NGINX MODULE", one per
# built target (tests/matrix/run.sh writes it).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../../t/lib";
use Test::More;
use BubbleTest;

my $list = $ENV{BUBBLE_MATRIX_LIST}
    or BAIL_OUT('BUBBLE_MATRIX_LIST is not set: run tests/matrix/run.sh');
open my $fh, '<', $list or BAIL_OUT("$list: $!");
my @t = map { [split ' '] } grep { /\S/ } <$fh>;
close $fh;
BAIL_OUT('the mismatch test needs two targets') if @t < 2;

# nginx_version as nginx writes it: 1.26.3 -> 1026003
sub number {
    my ($major, $minor, $patch) = split /\./, $_[0];
    return $major * 1000000 + $minor * 1000 + $patch;
}

sub load {
    my ($nginx, $module) = @_;
    local $BubbleTest::NGINX = $nginx;
    # a pid file in the test's own prefix: ingress-nginx's patched nginx
    # opens it even for -t
    return nginx_config_test("load_module $module;\npid nginx.pid;\n"
                             . "events {}\n");
}

for my $i (0 .. $#t) {
    my ($name, $version, $nginx, $module) = @{ $t[$i] };

    my ($ok, $out) = load($nginx, $module);
    ok($ok, "$name: nginx $version loads its own module") or diag($out);

    # the next target whose release differs (1.27.1 patched and plain
    # are one release: nginx compares the number only)
    my ($other) = grep { $_->[1] ne $version }
                  @t[$i + 1 .. $#t, 0 .. $i - 1];
    next unless $other;
    my ($oname, $oversion, undef, $omodule) = @$other;

    ($ok, $out) = load($nginx, $omodule);
    ok(!$ok, "$name: nginx $version refuses the module built for "
             . "$oversion ($oname)");
    my $want = sprintf 'module "%s" version %d instead of %d',
                       $omodule, number($oversion), number($version);
    like($out, qr/\Q$want\E/, "$name: with nginx's message: $want");
}

done_testing();
