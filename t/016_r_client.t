#!/usr/bin/perl
# The R package ngxbubble (clients/r) against the module: built with
# R CMD build and installed from the tarball into a temporary library,
# then its testthat suite (clients/r/tests/testthat, through
# tests/r/run_tests.R) runs against this nginx: bubble_ggsave() writes
# ggsave's sizes, images are plain raw vectors, signed URLs, errors,
# bubble_img() and renderBubble() URLs render, knitr output, ggplots drawn
# with ggplot2's ticks and legends, and R's URLs are the same charts as
# tools/bubble-url's.  Then the Shiny output in headless Chromium
# (tests/r/shiny.test.mjs against tests/r/shiny-app).
# Needs R with ggplot2, jsonlite, curl, openssl, htmltools, testthat,
# knitr, shiny, png (R_PKGS), and for the browser part node, chromium and
# tests/browser's playwright-core (make deps).  `make r-check` runs
# R CMD check.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use BubbleTest;
use File::Temp ();
use IO::Socket::INET ();
use POSIX ();
use Time::HiRes qw(time);

require_module();

my $root = $ENV{BUBBLE_ROOT} // "$FindBin::Bin/..";
my $secret = 'r-client-secret-0123456789';

# the R code reads relative paths (clients/r, examples, tools)
chdir $root or die "chdir $root: $!";
# UTF-8 strings (CJK test data) whatever the caller's locale
$ENV{LC_ALL} = 'C.UTF-8';

# --- build the package and install it from the tarball ----------------------

my $tmp = File::Temp->newdir('bubble-r-XXXXXX', TMPDIR => 1,
                             CLEANUP => !$ENV{BUBBLE_KEEP});
my $lib = "$tmp/lib";
mkdir $lib or die "mkdir $lib: $!";

sub run_log {
    my ($what, $cmd) = @_;
    my $out = `$cmd 2>&1`;
    my $rc = $? >> 8;
    diag("$what:\n$out") if $rc != 0;
    return $rc;
}

my $t0 = time;
is(run_log('R CMD build', "cd '$tmp' && R CMD build --no-build-vignettes '$root/clients/r'"),
   0, 'R CMD build clients/r');
my ($tarball) = glob("$tmp/ngxbubble_*.tar.gz");
ok(defined $tarball, 'the source tarball') or BAIL_OUT('no tarball');
is(run_log('R CMD INSTALL', "R CMD INSTALL -l '$lib' '$tarball'"), 0,
   'R CMD INSTALL of the tarball into a temporary library');
note(sprintf('built and installed in %.1f s', time - $t0));

# --- nginx ------------------------------------------------------------------

my $ngx = start_nginx(server_conf => qq{
    location /chart {
        bubble;
    }
    location /signed {
        bubble;
        bubble_url_secret $secret;
    }
});
my $base = "http://127.0.0.1:$ngx->{port}";

# --- the testthat suite -----------------------------------------------------

$t0 = time;
{
    local $ENV{R_LIBS} = $lib;
    local $ENV{NGXBUBBLE_TEST_SERVER} = "$base/chart";
    local $ENV{NGXBUBBLE_TEST_SIGNED} = "$base/signed";
    local $ENV{NGXBUBBLE_TEST_SECRET} = $secret;
    local $ENV{NGXBUBBLE_TEST_REPO} = $root;
    # the package's own defaults must not reach another server
    local $ENV{NGXBUBBLE_SERVER} = "$base/chart";
    delete local $ENV{NGXBUBBLE_SECRET};

    open(my $r, '-|', 'Rscript tests/r/run_tests.R 2>&1') or die "Rscript: $!";
    my ($seen, $planned, $expect) = (0, undef, undef);
    while (my $line = <$r>) {
        chomp $line;
        if ($line =~ /^(not )?ok \d+ - (.*?)(?: # SKIP (.*))?$/) {
            # everything runs here: a skipped block is a failure
            ok(!defined $1 && !defined $3,
               "R: $2" . (defined $3 ? " (skipped: $3)" : ''));
            $seen++;
        } elsif ($line =~ /^1\.\.(\d+)$/) {
            $planned = $1;
        } elsif ($line =~ /^# expectations: (\d+) passed, (\d+) failed, (\d+) skipped, (\d+) warnings$/) {
            $expect = [$1, $2, $3, $4];
            note($line);
        } else {
            diag($line);
        }
    }
    close $r;
    my $rc = $? >> 8;

    ok($seen >= 60, "the testthat suite ran ($seen tests)");
    is($planned, $seen, 'it finished its plan');
    is($rc, 0, 'Rscript exited 0');
    ok($expect && $expect->[0] >= 300, 'expectations passed: '
       . ($expect ? $expect->[0] : 'none'));
    is_deeply($expect ? [@$expect[1 .. 3]] : undef, [0, 0, 0],
              'no expectation failed, was skipped or warned');
}
note(sprintf('testthat suite in %.1f s', time - $t0));

# --- the Shiny output in headless Chromium -------------------------------------

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die "socket: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

SKIP: {
    my $chromium = $ENV{CHROMIUM} || '/usr/bin/chromium';
    my $missing = !-x $chromium ? $chromium
        : !-d 'tests/browser/node_modules/playwright-core' ? 'tests/browser/node_modules/playwright-core (make deps)'
        : system('node --version >/dev/null 2>&1') != 0 ? 'node'
        : undef;
    skip("Shiny in Chromium: $missing is missing", 1) if $missing;

    $t0 = time;
    my $port = free_port();
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $ENV{R_LIBS} = $lib;
        $ENV{NGXBUBBLE_SERVER} = "$base/chart";
        delete $ENV{NGXBUBBLE_SECRET};
        open(STDOUT, '>', "$tmp/shiny.log") or POSIX::_exit(1);
        open(STDERR, '>&', \*STDOUT) or POSIX::_exit(1);
        exec('Rscript', '-e', "shiny::runApp('tests/r/shiny-app', port = $port, "
             . "launch.browser = FALSE)") or POSIX::_exit(1);
    }
    # the app listens: a connection is accepted (or the process is gone)
    my $gone = 0;
    my $up = wait_for(60, sub {
        $gone = 1 if !$gone && waitpid($pid, POSIX::WNOHANG()) == $pid;
        return 1 if $gone;
        return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) ? 1 : 0;
    });
    if (!ok($up && !$gone, "the Shiny app listens on port $port")) {
        diag(read_file("$tmp/shiny.log"));
    } else {
        open(my $js, '-|', "timeout 120 node tests/r/shiny.test.mjs "
             . "http://127.0.0.1:$port $base/chart 2>&1") or die "node: $!";
        my $seen = 0;
        while (my $line = <$js>) {
            chomp $line;
            if ($line =~ /^(not )?ok \d+ - (.*)$/) {
                ok(!defined $1, "Shiny: $2");
                $seen++;
            } elsif ($line !~ /^1\.\.\d+$/) {
                diag($line);
            }
        }
        close $js;
        is($? >> 8, 0, 'the Chromium test exited 0');
        ok($seen >= 5, "the Chromium test ran ($seen checks)");
    }
    if (!$gone) {
        kill 'TERM', $pid;
        waitpid($pid, 0);
    }
    note(sprintf('Shiny in Chromium in %.1f s', time - $t0));
}

is_deeply([error_log_crashes($ngx)], [], 'no worker crashed');

done_testing();
