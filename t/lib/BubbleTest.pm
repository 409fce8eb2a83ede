package BubbleTest;

# Integration-test harness for ngx_http_bubble_module.
#
# Starts Debian's /usr/sbin/nginx on a free loopback port in a throw-away
# prefix directory, talks to it over raw sockets (so a test controls every
# byte it sends), and checks what comes back (PNG structure, JSON errors,
# crashes in error.log).  Core perl only: Test::More, IO::Socket::INET,
# File::Temp, Compress::Zlib, JSON::PP.
#
# Environment:
#   BUBBLE_MODULE  absolute path of ngx_http_bubble_module.so
#   BUBBLE_ROOT    repository root (bench specs: $BUBBLE_ROOT/tests/bench/workloads)
#   BUBBLE_NGINX   nginx binary (default /usr/sbin/nginx)
#   BUBBLE_KEEP    if true, keep the prefix directories for post-mortems
#   BUBBLE_NGINX_ENV  VAR=value words for the nginx command only, e.g. the
#                  ASan runtime (LD_PRELOAD) and its options for a sanitizer
#                  build (make test-sanitize); the workers keep *SAN_OPTIONS
#   FONTCONFIG_FILE  passed on to the workers (`env FONTCONFIG_FILE;`), as
#                  a deployment of the self-contained musl module does with
#                  its fonts.conf (make test-musl)

use strict;
use warnings;

use Exporter 'import';
use Carp qw(croak);
use Cwd qw(abs_path);
use File::Temp ();
use File::Spec ();
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes qw(sleep time);
use Compress::Zlib ();
use JSON::PP ();
use Test::More ();

our @EXPORT = qw(
    start_nginx stop_nginx build_conf nginx_config_test
    http_request raw_request post_chart
    png_info error_log_crashes error_log_content
    json_decode json_encode
    bench_spec bench_path read_file
    module_path require_module
    json_error_ok
    wait_for heavy_spec slow_spec server_rx_queue
);

our $NGINX = $ENV{BUBBLE_NGINX} || '/usr/sbin/nginx';

# The server http_request() talks to when no port is given: the last one
# started.
our $CURRENT;

# Every running server, stopped in END even if a test dies.
my %RUNNING;

# --------------------------------------------------------------------------
# waiting and workloads

# wait_for($seconds, sub { ... }): polls the condition every 20 ms until it
# holds or the time is up; returns its last value.  For state that lands a
# moment after a response (counters of the log phase, released slots).
sub wait_for {
    my ($secs, $cond) = @_;
    my $deadline = time + $secs;
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.02;
    }
    return $cond->();
}

# server_rx_queue($port, $client_socket): bytes the client sent to nginx
# on 127.0.0.1:$port that nginx has not read yet (the receive queue of
# nginx's end of the connection, from /proc/net/tcp); -1 while that end
# is not found.  0 is the positive signal that nginx has read all sent.
sub server_rx_queue {
    my ($port, $sock) = @_;
    my $peer = $sock->sockport;
    open my $fh, '<', '/proc/net/tcp' or return -1;
    while (my $line = <$fh>) {
        my @f = split ' ', $line;
        next unless @f > 4 && $f[1] =~ /:([0-9A-F]{4})$/;
        next unless hex($1) == $port;
        next unless $f[2] =~ /:([0-9A-F]{4})$/ && hex($1) == $peer;
        my (undef, $rx) = split /:/, $f[4];
        return hex $rx;
    }
    return -1;
}

# A chart that takes over half a second to draw: W3's 5000 rows four
# times over at 1600 x 1200 @2 (a 650 KB body), bubbles up to 80 px (160
# px at scale 2), outlined (W3 alone draws in ~35 ms).
sub heavy_spec {
    my $s = json_decode(bench_spec('w3'));
    my $d = $s->{data};
    $s->{data} = ref $d eq 'HASH'
        ? { map { ($_ => [ (@{ $d->{$_} }) x 4 ]) } keys %$d }
        : [ (@$d) x 4 ];
    $s->{size} = { range => [1, 80] };
    $s->{stroke} = { color => '#333333', width => 1 };
    return json_encode($s);
}

# A slow chart that holds most of a memory budget: 30000 outlined bubbles
# on 4096 x 4096 (a 64 MiB canvas, ~106 MiB estimated: t/024_queue.t
# needs under 114), about 0.4 s of drawing.  seed: the data's.
sub slow_spec {
    my ($seed) = @_;
    my $n = 30000;
    srand($seed // 13);
    return json_encode({
        width => 4096, height => 4096,
        stroke => { color => '#333333', width => 2 },
        data => {
            x    => [map { int(rand(10000)) / 10000 } 1 .. $n],
            y    => [map { int(rand(10000)) / 10000 } 1 .. $n],
            size => [map { int(rand(1000)) / 1000 } 1 .. $n],
        },
    });
}

# --------------------------------------------------------------------------
# environment

sub module_path {
    return $ENV{BUBBLE_MODULE};
}

# Skip the whole test file (before any plan) when the module is not
# configured; die when it is configured but missing, since that is a
# broken build, not an optional feature.
sub require_module {
    my $m = module_path();
    if (!defined $m || $m eq '') {
        Test::More::plan(skip_all =>
            'BUBBLE_MODULE is not set (absolute path to '
            . 'ngx_http_bubble_module.so)');
    }
    croak "BUBBLE_MODULE=$m: no such file" unless -f $m;
    croak "BUBBLE_MODULE=$m: must be an absolute path"
        unless File::Spec->file_name_is_absolute($m);
    return $m;
}

sub read_file {
    my ($path) = @_;
    open my $fh, '<:raw', $path or croak "open $path: $!";
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

# bench_path('w1') / bench_path('w1-standard') / bench_path('w1-standard.json')
sub bench_path {
    my ($name) = @_;
    my %short = (
        w1 => 'w1-standard.json',
        w2 => 'w2-thumbnail.json',
        w3 => 'w3-heavy.json',
    );
    my $file = $short{lc $name} || $name;
    $file .= '.json' unless $file =~ /\.json\z/;
    my $root = $ENV{BUBBLE_ROOT};
    croak 'BUBBLE_ROOT is not set (repository root)'
        unless defined $root && $root ne '';
    my $path = "$root/tests/bench/workloads/$file";
    croak "bench spec $path: no such file" unless -f $path;
    return $path;
}

# The bytes of a shared bench spec.
sub bench_spec {
    return read_file(bench_path($_[0]));
}

# --------------------------------------------------------------------------
# JSON

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;

# Decode UTF-8 JSON bytes; undef (not an exception) if they are not JSON.
sub json_decode {
    my ($bytes) = @_;
    return undef unless defined $bytes;
    my $v = eval { $JSON->decode($bytes) };
    return $@ ? undef : $v;
}

# Canonical (sorted keys) UTF-8 JSON bytes.
sub json_encode {
    return $JSON->encode($_[0]);
}

# --------------------------------------------------------------------------
# nginx

sub _free_port {
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => 0,
        Proto     => 'tcp',
        Listen    => 1,
        ReuseAddr => 1,
    ) or croak "cannot bind a loopback port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# build_conf(dir => ..., port => ..., http_conf => ..., server_conf => ...,
#            main_conf => ..., workers => 1, module => 1)
# Returns the text of nginx.conf.  module => 0 leaves out load_module
# (for harness self-tests against stock nginx).
sub build_conf {
    my (%a) = @_;
    my $dir     = $a{dir}  or croak 'build_conf: dir is required';
    my $port    = $a{port} or croak 'build_conf: port is required';
    my $workers = $a{workers} // 1;
    my $main    = $a{main_conf}   // '';
    my $http    = $a{http_conf}   // '';
    my $server  = $a{server_conf} // '';
    my $use_mod = $a{module} // 1;

    # a sanitizer run: workers keep the runtime's options (nginx clears
    # the environment of its workers but for "env" names), and stay root
    # when the master is: after setuid() a process cannot read its own
    # /proc/self/maps, and ASan's reports lose every frame's name
    if ($ENV{BUBBLE_NGINX_ENV}) {
        $main = "env ASAN_OPTIONS;\nenv UBSAN_OPTIONS;\nenv LSAN_OPTIONS;\n"
            . ($> == 0 && $main !~ /^\s*user\s/m ? "user root;\n" : '')
            . $main;
    }

    # the fonts.conf of a module that brings its own fonts (make test-musl)
    $main = "env FONTCONFIG_FILE;\n" . $main if $ENV{FONTCONFIG_FILE};

    my $load = '';
    if ($use_mod) {
        my $m = module_path();
        croak 'BUBBLE_MODULE is not set' unless defined $m && $m ne '';
        $load = "load_module $m;\n";
    }

    return <<"CONF";
${load}daemon on;
master_process on;
worker_processes $workers;
error_log $dir/error.log info;
pid $dir/nginx.pid;

$main

events {
    worker_connections 256;
}

http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;

$http

    server {
        listen 127.0.0.1:$port;

$server
    }
}
CONF
}

sub _new_prefix {
    my $tmp = File::Temp->newdir('bubble-t-XXXXXX',
                                 TMPDIR => 1,
                                 CLEANUP => $ENV{BUBBLE_KEEP} ? 0 : 1);
    # Workers run as nobody when the master is root: they must be able to
    # reach the temp paths nginx creates (and chowns) inside the prefix.
    chmod 0755, $tmp->dirname;
    return $tmp;
}

sub _write {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or croak "write $path: $!";
    print $fh $data;
    close $fh or croak "close $path: $!";
}

sub _quote {
    my ($s) = @_;
    $s =~ s/'/'\\''/g;
    return "'$s'";
}

# Run the nginx binary with the prefix's config; returns (exit status,
# combined stdout+stderr).
sub _run_nginx {
    my ($dir, @args) = @_;
    my $out = "$dir/nginx.out";
    my $cmd = join ' ', map { _quote($_) }
        $NGINX, '-p', "$dir/", '-c', 'nginx.conf', '-e', "$dir/error.log",
        @args;
    $cmd = "env $ENV{BUBBLE_NGINX_ENV} $cmd" if $ENV{BUBBLE_NGINX_ENV};
    my $rc = system("$cmd >" . _quote($out) . ' 2>&1 </dev/null');
    my $text = -f $out ? read_file($out) : '';
    unlink $out;
    return ($rc, $text);
}

# nginx_config_test(http_conf => ..., server_conf => ..., main_conf => ...)
# or nginx_config_test($full_conf_text).
# Runs `nginx -t`; returns (ok, output) where output is what nginx printed
# plus the error.log it wrote.
sub nginx_config_test {
    my $tmp = _new_prefix();
    my $dir = $tmp->dirname;
    my $conf;
    if (@_ == 1) {
        $conf = $_[0];
    } else {
        my %a = @_;
        $conf = build_conf(%a, dir => $dir, port => $a{port} || _free_port());
    }
    _write("$dir/nginx.conf", $conf);
    my ($rc, $out) = _run_nginx($dir, '-t');
    my $log = -f "$dir/error.log" ? read_file("$dir/error.log") : '';
    my $ok = ($rc == 0) ? 1 : 0;
    return wantarray ? ($ok, $out . $log) : $ok;
}

# start_nginx(http_conf => ..., server_conf => ..., main_conf => ...,
#             workers => 1, module => 1, timeout => 10)
# Returns a BubbleTest::Nginx object (port, dir, error_log, pid); the server
# stops when the object is destroyed, on stop(), or at END.  Dies with the
# error.log content if nginx does not come up.
sub start_nginx {
    my (%a) = @_;
    my $timeout = $a{timeout} // 10;
    my $last_err;

    for my $attempt (1 .. 3) {
        my $tmp  = _new_prefix();
        my $dir  = $tmp->dirname;
        my $port = _free_port();
        my $conf = build_conf(%a, dir => $dir, port => $port);
        _write("$dir/nginx.conf", $conf);

        my ($rc, $out) = _run_nginx($dir);
        if ($rc != 0) {
            my $log = -f "$dir/error.log" ? read_file("$dir/error.log") : '';
            $last_err = "nginx failed to start (exit " . ($rc >> 8) . ")\n"
                . "--- output ---\n$out"
                . "--- $dir/error.log ---\n$log"
                . "--- nginx.conf ---\n$conf";
            # Lost the race for the port: try another one.
            next if "$out$log" =~ /Address already in use/;
            croak $last_err;
        }

        my $self = bless {
            tmp  => $tmp,
            dir  => $dir,
            port => $port,
            conf => $conf,
            owner_pid => $$,
        }, 'BubbleTest::Nginx';
        $RUNNING{"$self"} = $self;
        # weaken: END stops whatever is still alive; DESTROY removes it.
        Scalar::Util::weaken($RUNNING{"$self"});

        my $deadline = time + $timeout;
        my $up = 0;
        while (time < $deadline) {
            if (-s "$dir/nginx.pid") {
                my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                              PeerPort => $port,
                                              Proto    => 'tcp',
                                              Timeout  => 1);
                if ($s) { close $s; $up = 1; last; }
            }
            sleep 0.05;
        }
        if (!$up) {
            my $log = $self->error_log_content;
            $self->stop;
            $last_err = "nginx did not accept on 127.0.0.1:$port within "
                . "${timeout}s\n--- $dir/error.log ---\n$log";
            croak $last_err;
        }
        $self->{pid} = $self->master_pid;
        # The listen socket accepts (into the backlog) before the master
        # has forked its workers: wait for them, so worker_pids() is right.
        my $want = $a{workers} // 1;
        while (time < $deadline) {
            my @w = $self->worker_pids;
            last if @w >= $want;
            sleep 0.02;
        }
        $CURRENT = $self;
        # A caller that keeps the object owns the server (it stops when the
        # object goes away); in void context $CURRENT keeps it alive.
        Scalar::Util::weaken($CURRENT) if defined wantarray;
        return $self;
    }
    croak $last_err;
}

sub stop_nginx {
    my ($n) = @_;
    $n ||= $CURRENT;
    $n->stop if $n;
}

END {
    for my $n (grep { defined } values %RUNNING) {
        $n->stop;
    }
}

# --------------------------------------------------------------------------
# HTTP over raw sockets

# Read everything the server sends until EOF or timeout.
sub _read_all {
    my ($sock, $timeout) = @_;
    my $sel = IO::Select->new($sock);
    my $buf = '';
    my $deadline = time + $timeout;
    my $timed_out = 0;
    while (1) {
        my $left = $deadline - time;
        if ($left <= 0) { $timed_out = 1; last; }
        next unless $sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        last if !defined $n || $n == 0;
    }
    return ($buf, $timed_out);
}

sub _dechunk {
    my ($body) = @_;
    my $out = '';
    my $pos = 0;
    while (1) {
        my $eol = index($body, "\r\n", $pos);
        return undef if $eol < 0;
        my $line = substr($body, $pos, $eol - $pos);
        $line =~ s/;.*//;
        return undef unless $line =~ /^\s*([0-9a-fA-F]+)\s*$/;
        my $len = hex $1;
        $pos = $eol + 2;
        last if $len == 0;
        return undef if $pos + $len > length $body;
        $out .= substr($body, $pos, $len);
        $pos += $len + 2;
    }
    return $out;
}

# Parse a raw HTTP response.  Returns {status, status_line, headers (keys
# lowercased; repeated headers joined with ", "), header_list ([name, value]
# pairs as sent), body, raw}.
sub _parse_response {
    my ($raw, $method) = @_;
    my %res = (raw => $raw, status => undef, headers => {},
               header_list => [], body => undef);
    my $end = index($raw, "\r\n\r\n");
    if ($end < 0) {
        $res{error} = length $raw ? 'incomplete response header'
                                  : 'empty response (connection closed)';
        return \%res;
    }
    my $head = substr($raw, 0, $end);
    my $body = substr($raw, $end + 4);
    my @lines = split /\r\n/, $head;
    my $sl = shift @lines;
    $res{status_line} = $sl;
    if ($sl =~ m{^HTTP/(\d\.\d)\s+(\d{3})(?:\s+(.*))?$}) {
        $res{version} = $1;
        $res{status}  = $2 + 0;
        $res{reason}  = $3;
    } else {
        $res{error} = "bad status line: $sl";
        return \%res;
    }
    for my $l (@lines) {
        next unless $l =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/;
        my ($k, $v) = (lc $1, $2);
        push @{ $res{header_list} }, [$1, $v];
        $res{headers}{$k} = exists $res{headers}{$k}
            ? "$res{headers}{$k}, $v" : $v;
    }
    if (defined $method && uc $method eq 'HEAD') {
        $res{body} = '';
        $res{extra} = $body if length $body;
    } elsif (($res{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
        my $d = _dechunk($body);
        if (defined $d) {
            $res{body} = $d;
        } else {
            $res{body} = $body;
            $res{error} = 'malformed chunked body';
        }
    } else {
        $res{body} = $body;
        my $cl = $res{headers}{'content-length'};
        if (defined $cl && $cl =~ /^\d+$/ && length($body) != $cl) {
            $res{error} = "body is " . length($body)
                . " bytes, Content-Length says $cl";
        }
    }
    return \%res;
}

sub _connect {
    my ($port, $timeout) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $port,
                                  Proto    => 'tcp',
                                  Timeout  => $timeout)
        or croak "connect 127.0.0.1:$port: $!";
    binmode $s;
    $s->autoflush(1);
    return $s;
}

sub _send_all {
    my ($s, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($s, $data, length($data) - $off, $off);
        # The server may answer (413, 415) and close before reading all of
        # a large body: stop sending, then read what it said.
        return 0 unless defined $n;
        $off += $n;
    }
    return 1;
}

# raw_request($bytes, port => ..., timeout => 30, parts => [...],
#             delay => 0.1, method => 'GET')
# Sends $bytes (or, with parts, each part followed by a pause of delay
# seconds) and reads the response until the server closes.
sub raw_request {
    my ($bytes, %o) = @_;
    my $port = $o{port} || ($CURRENT ? $CURRENT->port : undef)
        or croak 'raw_request: no server started and no port given';
    my $timeout = $o{timeout} // 30;
    my $s = _connect($port, $timeout);
    local $SIG{PIPE} = 'IGNORE';
    my @parts = $o{parts} ? @{ $o{parts} } : ($bytes);
    my $delay = $o{delay} // 0;
    for my $i (0 .. $#parts) {
        last unless _send_all($s, $parts[$i]);
        sleep $delay if $delay && $i < $#parts;
    }
    my $method = $o{method};
    if (!defined $method && $parts[0] =~ /^(\S+)/) { $method = $1 }
    my ($raw, $timed_out) = _read_all($s, $timeout);
    close $s;
    my $res = _parse_response($raw, $method);
    $res->{timed_out} = 1 if $timed_out;
    return $res;
}

# http_request($method, $path, headers => {...}, body => $bytes,
#              version => '1.1', chunked => 0|chunk_size, parts => [...],
#              delay => 0.1, port => ..., timeout => 30)
#
# Builds the request and sends it with raw_request.  Adds, unless the
# caller set them: Host, Connection: close, and Content-Length when there
# is a body (and chunked is off).  A header given as undef is left out,
# e.g. headers => {'Content-Length' => undef} sends a body without a
# length.  chunked => N sends the body as Transfer-Encoding: chunked in
# N-byte chunks (1 means 1024); parts => [..] sends the body in pieces with
# delay seconds between them (a slow client).
sub http_request {
    my ($method, $path, %o) = @_;
    my $version = $o{version} // '1.1';
    my $body = $o{body};
    my %h = %{ $o{headers} || {} };
    my %lc = map { lc($_) => $_ } keys %h;

    my $port = $o{port} || ($CURRENT ? $CURRENT->port : undef)
        or croak 'http_request: no server started and no port given';

    my @hdr;
    push @hdr, ['Host', "127.0.0.1:$port"] unless exists $lc{host};
    push @hdr, ['Connection', 'close'] unless exists $lc{connection};

    my @body_parts;
    if ($o{chunked}) {
        my $size = $o{chunked} == 1 ? 1024 : $o{chunked};
        push @hdr, ['Transfer-Encoding', 'chunked']
            unless exists $lc{'transfer-encoding'};
        my $enc = '';
        $body //= '';
        for (my $i = 0; $i < length $body; $i += $size) {
            my $c = substr($body, $i, $size);
            $enc .= sprintf("%x\r\n", length $c) . $c . "\r\n";
        }
        $enc .= "0\r\n\r\n";
        @body_parts = ($enc);
    } elsif (defined $body) {
        push @hdr, ['Content-Length', length $body]
            unless exists $lc{'content-length'};
        @body_parts = $o{parts} ? @{ $o{parts} } : ($body);
    } elsif ($o{parts}) {
        @body_parts = @{ $o{parts} };
    }

    for my $k (sort keys %h) {
        next unless defined $h{$k};
        my @v = ref $h{$k} eq 'ARRAY' ? @{ $h{$k} } : ($h{$k});
        push @hdr, [$k, $_] for @v;
    }

    my $head = "$method $path HTTP/$version\r\n"
        . join('', map { "$_->[0]: $_->[1]\r\n" } @hdr) . "\r\n";

    my @parts = ($head, @body_parts);
    if (!$o{parts}) {
        @parts = ($head . join('', @body_parts));
    }
    return raw_request(undef, %o, parts => \@parts, method => $method,
                       port => $port);
}

# post_chart($path, $spec_bytes_or_ref, %http_request_options)
# POST with Content-Type: application/json (override through headers).
# A reference is JSON-encoded first.
sub post_chart {
    my ($path, $spec, %o) = @_;
    my $body = ref $spec ? json_encode($spec) : $spec;
    my %h = ('Content-Type' => 'application/json', %{ $o{headers} || {} });
    return http_request('POST', $path, %o, headers => \%h, body => $body);
}

# json_error_ok($res, $status, $error, $desc) — Test::More checks that a
# response is the module's JSON error: the status, Content-Type
# application/json, a JSON object body with a string "error" (equal to
# $error when given) and a non-empty string "message".  Returns the decoded
# body (or undef).
sub json_error_ok {
    my ($res, $status, $error, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    $desc //= "$status $error";
    my $tb = Test::More->builder;
    my $all = 1;
    $all &= Test::More::is($res->{status}, $status, "$desc: status $status");
    $all &= Test::More::like($res->{headers}{'content-type'} // '',
        qr{^application/json\b}i, "$desc: Content-Type application/json");
    my $j = json_decode($res->{body});
    my $is_obj = ref $j eq 'HASH';
    $all &= Test::More::ok($is_obj, "$desc: body is a JSON object")
        or Test::More::diag('body: ' . _excerpt($res->{body}));
    if ($is_obj) {
        $all &= Test::More::ok(
            defined $j->{message} && !ref $j->{message}
                && length $j->{message},
            "$desc: has a non-empty \"message\"");
        if (defined $error) {
            $all &= Test::More::is($j->{error}, $error,
                                   "$desc: error is \"$error\"");
        } else {
            $all &= Test::More::ok(defined $j->{error} && !ref $j->{error}
                                   && length $j->{error},
                                   "$desc: has an \"error\" code");
        }
        Test::More::diag('body: ' . _excerpt($res->{body})) unless $all;
    }
    return $is_obj ? $j : undef;
}

sub _excerpt {
    my ($b) = @_;
    return '(undef)' unless defined $b;
    my $e = substr($b, 0, 300);
    $e =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return $e . (length $b > 300 ? '...' : '');
}

# --------------------------------------------------------------------------
# PNG

sub _crc32 {
    my ($data) = @_;
    return Compress::Zlib::crc32($data);
}

# png_info($bytes) → {valid, width, height, bit_depth, color_type,
#                     interlace, chunks => [types], error}
# valid: the signature is right, IHDR comes first and is well-formed, every
# chunk's CRC32 matches, the zlib stream in the IDAT chunks inflates to
# exactly the size IHDR implies, and IEND ends the file.
sub png_info {
    my ($b) = @_;
    my %r = (valid => 0, width => undef, height => undef, chunks => []);
    my $fail = sub { $r{error} = $_[0]; return \%r };

    return $fail->('no data') unless defined $b && length $b;
    return $fail->('bad signature')
        unless length($b) >= 8 && substr($b, 0, 8) eq "\x89PNG\r\n\x1a\n";

    my $pos = 8;
    my $idat = '';
    my $seen_iend = 0;
    while ($pos < length $b) {
        return $fail->("truncated chunk header at byte $pos")
            if $pos + 8 > length $b;
        my ($len, $type) = unpack('N a4', substr($b, $pos, 8));
        return $fail->("bad chunk type at byte $pos")
            unless $type =~ /^[A-Za-z]{4}$/;
        return $fail->("chunk $type: length $len too large")
            if $len > 0x7fffffff;
        return $fail->("chunk $type at byte $pos truncated")
            if $pos + 12 + $len > length $b;
        my $data = substr($b, $pos + 8, $len);
        my $crc  = unpack('N', substr($b, $pos + 8 + $len, 4));
        return $fail->("chunk $type at byte $pos: CRC mismatch")
            if $crc != _crc32($type . $data);
        push @{ $r{chunks} }, $type;

        if (@{ $r{chunks} } == 1) {
            return $fail->("first chunk is $type, not IHDR")
                unless $type eq 'IHDR';
            return $fail->('IHDR length is not 13') unless $len == 13;
            @r{qw(width height bit_depth color_type compression filter
                  interlace)} = unpack('N N C C C C C', $data);
            return $fail->('zero width or height')
                unless $r{width} && $r{height};
        } elsif ($type eq 'IHDR') {
            return $fail->('second IHDR');
        }
        $idat .= $data if $type eq 'IDAT';
        $pos += 12 + $len;
        if ($type eq 'IEND') { $seen_iend = 1; last }
    }
    return $fail->('no IEND chunk (truncated?)') unless $seen_iend;
    return $fail->('data after IEND') if $pos != length $b;
    return $fail->('no IDAT chunk') unless length $idat;

    my ($inf, $st) = Compress::Zlib::inflateInit();
    return $fail->('inflateInit failed') unless $inf;
    my ($raw, $status) = $inf->inflate($idat);
    return $fail->("IDAT does not inflate: $status")
        unless defined $raw
            && ($status == Compress::Zlib::Z_STREAM_END()
                || $status == Compress::Zlib::Z_OK());
    return $fail->('IDAT zlib stream is incomplete')
        unless $status == Compress::Zlib::Z_STREAM_END();

    my $expect = _png_raw_size(\%r);
    return $fail->("unsupported color type/bit depth "
                   . "$r{color_type}/$r{bit_depth}") unless defined $expect;
    return $fail->('image data is ' . length($raw)
                   . " bytes, IHDR implies $expect")
        unless length($raw) == $expect;

    $r{valid} = 1;
    return \%r;
}

# Bytes of filtered scanlines that IHDR implies (filter byte per row).
sub _png_raw_size {
    my ($r) = @_;
    my %channels = (0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4);
    my $ch = $channels{ $r->{color_type} };
    return undef unless $ch;
    my $bpp = $ch * $r->{bit_depth};            # bits per pixel
    my $rowbytes = sub { my ($w) = @_; int(($w * $bpp + 7) / 8) };
    my ($w, $h) = @$r{qw(width height)};
    if (!$r->{interlace}) {
        return $h * (1 + $rowbytes->($w));
    }
    # Adam7: (x0, y0, dx, dy) per pass; empty passes carry no bytes.
    my $total = 0;
    for my $p ([0,0,8,8], [4,0,8,8], [0,4,4,8], [2,0,4,4],
               [0,2,2,4], [1,0,2,2], [0,1,1,2]) {
        my ($x0, $y0, $dx, $dy) = @$p;
        my $pw = $w > $x0 ? int(($w - $x0 + $dx - 1) / $dx) : 0;
        my $ph = $h > $y0 ? int(($h - $y0 + $dy - 1) / $dy) : 0;
        next unless $pw && $ph;
        $total += $ph * (1 + $rowbytes->($pw));
    }
    return $total;
}

# --------------------------------------------------------------------------
# error.log

sub _log_path {
    my ($prefix) = @_;
    $prefix ||= $CURRENT;
    croak 'no nginx prefix given and none started' unless $prefix;
    my $dir = ref $prefix ? $prefix->dir : $prefix;
    return -d $dir ? "$dir/error.log" : $dir;
}

sub error_log_content {
    my $path = _log_path(@_);
    return -f $path ? read_file($path) : '';
}

# error_log_crashes($nginx_or_prefix_dir) → lines such as
# "... worker process 1234 exited on signal 11 (core dumped)".
sub error_log_crashes {
    my $log = error_log_content(@_);
    return grep { /exited on signal/ } split /\n/, $log;
}

# ==========================================================================

package BubbleTest::Nginx;

use strict;
use warnings;
use Time::HiRes qw(sleep time);

sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }
sub conf { $_[0]{conf} }
sub error_log { "$_[0]{dir}/error.log" }
sub error_log_content { BubbleTest::error_log_content($_[0]) }
sub error_log_crashes { BubbleTest::error_log_crashes($_[0]) }

sub master_pid {
    my ($self) = @_;
    my $f = "$self->{dir}/nginx.pid";
    return undef unless -f $f;
    open my $fh, '<', $f or return undef;
    my $pid = <$fh>;
    close $fh;
    return undef unless defined $pid && $pid =~ /(\d+)/;
    return $1;
}

# PIDs of the master's children (the workers), from /proc.
sub worker_pids {
    my ($self) = @_;
    my $master = $self->{pid} || $self->master_pid or return ();
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh>;
        close $fh;
        next unless defined $line && $line =~ /^(\d+) \(.*\) \S (\d+)/s;
        push @pids, $1 if $2 == $master;
    }
    return sort { $a <=> $b } @pids;
}

sub http_request {
    my ($self, @a) = @_;
    return BubbleTest::http_request(@a, port => $self->{port});
}

sub raw_request {
    my ($self, $bytes, %o) = @_;
    return BubbleTest::raw_request($bytes, %o, port => $self->{port});
}

sub post_chart {
    my ($self, @a) = @_;
    return BubbleTest::post_chart(@a, port => $self->{port});
}

# A zombie counts as gone: the daemonized master is reaped by init, which
# may take its time.
sub _alive {
    my ($pid) = @_;
    return 0 unless $pid && kill(0, $pid);
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $st = <$fh>;
        close $fh;
        return 0 if defined $st && $st =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

# Stop nginx: SIGTERM to the master from the pidfile (what `nginx -s stop`
# does, without starting another nginx that loads the module), then
# SIGTERM and SIGKILL to whatever is left of the master and its workers.
# Safe to call twice.
sub stop {
    my ($self) = @_;
    return if $self->{stopped};
    return if $self->{owner_pid} != $$;     # never from a forked child
    $self->{stopped} = 1;

    my $master = $self->{pid} || $self->master_pid;
    return unless $master;
    my @workers = $self->worker_pids;

    # Under the sanitizers a worker's exit (LSan's leak check) takes
    # seconds, and nginx SIGKILLs workers that are slow to obey TERM: ask
    # for a graceful QUIT, which it waits for, and wait longer.
    my $san = $ENV{BUBBLE_NGINX_ENV} ? 1 : 0;
    kill $san ? 'QUIT' : 'TERM', $master if _alive($master);

    my $wait = sub {
        my ($secs) = @_;
        my $deadline = time + $secs;
        while (time < $deadline) {
            return 1 unless grep { _alive($_) } $master, @workers;
            sleep 0.05;
        }
        return 0;
    };
    return if $wait->($san ? 60 : 10);
    kill 'TERM', grep { _alive($_) } $master, @workers;
    return if $wait->(2);
    kill 'KILL', grep { _alive($_) } $master, @workers;
    $wait->(5);
}

sub DESTROY {
    my ($self) = @_;
    local ($@, $!, $?);
    $self->stop;
    $BubbleTest::CURRENT = undef
        if defined $BubbleTest::CURRENT && $BubbleTest::CURRENT == $self;
}

package BubbleTest;

use Scalar::Util ();

1;
