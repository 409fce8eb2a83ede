#!/usr/bin/perl
# The addon script (`config`): nginx's ./configure with
# --add-dynamic-module finds every library, and stops with the Debian
# package to install when one is missing.
#
# - a pkg-config library is hidden by a pkg-config wrapper first on PATH
#   that answers "not there" for that one name and hands everything else
#   to the real pkg-config;
# - yajl has no .pc file: its headers are hidden by an empty tmpfs over
#   /usr/include/yajl, in a mount namespace of this test's own (unshare -m,
#   root), so nginx's auto/feature probe really fails to compile.
#
# nginx's configure runs in a copy of Debian's nginx-dev tree with no
# optional modules: the addon script is all that is being tested.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp ();
use BubbleTest;

require_module();

my $ROOT = $ENV{BUBBLE_ROOT} or die "BUBBLE_ROOT is not set\n";
my $NGX_SRC = $ENV{NGX_SRC} || '/usr/share/nginx/src';

# a release tarball (git archive of a tag, the matrix's) has auto/configure
# only; Debian's nginx-dev tree and nginx.org's tarballs have ./configure
my $CONFIGURE = -x "$NGX_SRC/configure" ? './configure' : 'auto/configure';
BAIL_OUT("$NGX_SRC is missing: run `make deps` (Debian package nginx-dev)")
    unless -x "$NGX_SRC/$CONFIGURE";

my $PKG_CONFIG = `command -v pkg-config 2>/dev/null`;
chomp $PKG_CONFIG;
BAIL_OUT('pkg-config is missing: run `make deps`') unless $PKG_CONFIG;

my $tmp = File::Temp->newdir('bubble-addon-XXXXXX', TMPDIR => 1);
system('cp', '-r', $NGX_SRC, "$tmp/nginx") == 0 or die "cp $NGX_SRC: $?";

# the wrapper: BUBBLE_HIDE_PC names the library that is "not installed"
mkdir "$tmp/bin" or die $!;
open my $fh, '>', "$tmp/bin/pkg-config" or die $!;
print $fh <<"SH";
#!/bin/sh
for a in "\$@"; do
    [ "\$a" = "\$BUBBLE_HIDE_PC" ] && exit 1
done
exec $PKG_CONFIG "\$@"
SH
close $fh;
chmod 0755, "$tmp/bin/pkg-config" or die $!;

# ./configure, its exit status and what it printed (stdout and stderr)
sub configure {
    my (%o) = @_;
    my $cmd = "cd $tmp/nginx && $CONFIGURE --without-http_rewrite_module"
            . " --without-http_gzip_module --add-dynamic-module=$ROOT";
    $cmd = "unshare -m sh -c 'mount -t tmpfs tmpfs $o{hide_dir} && $cmd'"
        if $o{hide_dir};
    local $ENV{PATH} = "$tmp/bin:$ENV{PATH}";
    local $ENV{BUBBLE_HIDE_PC} = $o{hide_pc} // '';
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

# --- everything there -------------------------------------------------------

my ($rc, $out) = configure();
is($rc, 0, 'configure with every library: exit 0') or diag($out);
for my $pc (qw(cairo pangocairo harfbuzz fontconfig)) {
    like($out, qr/^ \+ ngx_http_bubble_module: found $pc \d+\.\d+/m,
         "found $pc, with its version");
}
like($out, qr/checking for yajl library \.\.\. found/, 'found yajl');
like($out, qr/ngx_http_bubble_module was configured/,
     'the module is configured');

# --- one missing ------------------------------------------------------------

my @missing = (
    [cairo      => 'libcairo2-dev'],
    [pangocairo => 'libpango1.0-dev'],
    [harfbuzz   => 'libharfbuzz-dev'],
    [fontconfig => 'libfontconfig-dev'],
);

for my $m (@missing) {
    my ($pc, $deb) = @$m;
    my ($rc, $out) = configure(hide_pc => $pc);
    isnt($rc, 0, "without $pc: configure fails");
    my $want = "error: ngx_http_bubble_module requires $pc; install the "
             . "Debian package $deb (apt-get install $deb)";
    like($out, qr/\Q$want\E/, "without $pc: the message names $deb")
        or diag($out);
    unlike($out, qr/was configured/, "without $pc: not configured");
}

{
    # not a skip: `make test` runs as root (apt-get, cgroups) and so does CI
    ok($> == 0, 'root, to hide yajl with a tmpfs in a mount namespace');

    my ($rc, $out) = configure(hide_dir => '/usr/include/yajl');
    isnt($rc, 0, 'without yajl headers: configure fails');
    like($out, qr/checking for yajl library \.\.\. not found/,
         'the auto/feature probe did not find yajl') or diag($out);
    my $want = 'error: ngx_http_bubble_module requires the yajl library; '
             . 'install the Debian package libyajl-dev';
    like($out, qr/\Q$want\E/,
         'without yajl: the message names libyajl-dev') or diag($out);
}

ok(-e '/usr/include/yajl/yajl_parse.h',
   'the real /usr/include/yajl is untouched');

done_testing();
