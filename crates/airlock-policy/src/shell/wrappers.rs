//! Programs that run other programs.
//!
//! `sudo -u root env FOO=1 sh -c "curl …"` runs `curl`: a rule about `curl`
//! must see it. Each wrapper here yields what it runs: another argv (a
//! strict part of its own, so unwrapping always ends) or a script, which
//! the caller analyses one nesting level deeper.

use super::net::{NC, NCAT, RSYNC, SCP, SFTP, SOCAT, SSH};
use super::opts::{NO_VALUES, Scan, Spec, scan};

pub(crate) enum Inner {
    Argv(Vec<String>),
    Script(String),
}

const SUDO: Spec = Spec {
    short: "aCcDgpRrTtUu",
    long: "--auth-type --chdir --chroot --close-from --command-timeout --group \
        --login-class --other-user --prompt --role --type --user",
    assignments: true,
    ..NO_VALUES
};
const DOAS: Spec = Spec {
    short: "uC",
    ..NO_VALUES
};
const ENV: Spec = Spec {
    short: "uCS",
    long: "--unset --chdir --split-string",
    assignments: true,
    dash_is_flag: true,
    ..NO_VALUES
};
const XARGS: Spec = Spec {
    short: "adEILnPs",
    long: "--arg-file --delimiter --max-args --max-chars --max-procs \
        --process-slot-var",
    ..NO_VALUES
};
const TIMEOUT: Spec = Spec {
    short: "sk",
    long: "--signal --kill-after",
    ..NO_VALUES
};
const NICE: Spec = Spec {
    short: "n",
    long: "--adjustment",
    ..NO_VALUES
};
const IONICE: Spec = Spec {
    short: "cnpPu",
    long: "--class --classdata --pid --pgid --uid",
    ..NO_VALUES
};
const STDBUF: Spec = Spec {
    short: "ioe",
    long: "--input --output --error",
    ..NO_VALUES
};
const EXEC: Spec = Spec {
    short: "a",
    ..NO_VALUES
};
const TIME: Spec = Spec {
    short: "fo",
    long: "--format --output",
    ..NO_VALUES
};
const CHROOT: Spec = Spec {
    long: "--userspec --groups",
    ..NO_VALUES
};
const WATCH: Spec = Spec {
    short: "nq",
    long: "--interval --equexit",
    ..NO_VALUES
};
const SU: Spec = Spec {
    short: "csgGw",
    long: "--command --session-command --shell --group --supp-group \
        --whitelist-environment",
    permute: true,
    dash_is_flag: true,
    ..NO_VALUES
};

/// What `program` (already a basename) run with `args` runs in turn.
pub(crate) fn unwrap(program: &str, args: &[String]) -> Vec<Inner> {
    match program {
        "sudo" => command_after(args, &SUDO, 0),
        "doas" => command_after(args, &DOAS, 0),
        "env" => env(args),
        "xargs" => command_after(args, &XARGS, 0),
        "nohup" | "setsid" | "builtin" | "busybox" | "coproc" => command_after(args, &NO_VALUES, 0),
        "timeout" => command_after(args, &TIMEOUT, 1),
        "nice" => command_after(args, &NICE, 0),
        "ionice" => command_after(args, &IONICE, 0),
        "stdbuf" => command_after(args, &STDBUF, 0),
        "exec" => command_after(args, &EXEC, 0),
        "time" => command_after(args, &TIME, 0),
        "chroot" => command_after(args, &CHROOT, 1),
        // `command -v x` only tells where `x` is; it does not run it.
        "command" if scan(args, &NO_VALUES).has_flag(&["v", "V"]) => Vec::new(),
        "command" => command_after(args, &NO_VALUES, 0),
        "watch" => watch(args),
        "eval" if !args.is_empty() => vec![Inner::Script(args.join(" "))],
        _ if SHELLS.contains(&program) => shell_c(args),
        "su" | "runuser" => scripts(&scan(args, &SU), &["c", "--command", "--session-command"]),
        "find" => find_exec(args),
        "nc" | "netcat" => scripts(&scan(args, &NC), &["e"]),
        "ncat" => scripts(
            &scan(args, &NCAT),
            &["c", "e", "--exec", "--sh-exec", "--lua-exec"],
        ),
        "socat" => socat(args),
        "rsync" => scripts(&scan(args, &RSYNC), &["e", "--rsh"]),
        "ssh" => ssh_commands(&scan(args, &SSH), &[]),
        "scp" => ssh_commands(&scan(args, &SCP), &["S"]),
        "sftp" => ssh_commands(&scan(args, &SFTP), &["S"]),
        _ => Vec::new(),
    }
}

/// The command that starts at the first operand, `skip` operands later
/// (`timeout 5 cmd`, `chroot /srv cmd`).
fn command_after(args: &[String], spec: &Spec, skip: usize) -> Vec<Inner> {
    scan(args, spec)
        .rest()
        .and_then(|start| args.get(start + skip..))
        .filter(|rest| !rest.is_empty())
        .map(|rest| vec![Inner::Argv(rest.to_vec())])
        .unwrap_or_default()
}

fn scripts(scan: &Scan<'_>, keys: &[&str]) -> Vec<Inner> {
    scan.values_of(keys)
        .map(|v| Inner::Script(v.to_string()))
        .collect()
}

/// `env -S 'cmd args'` splits its string into the command line.
fn env(args: &[String]) -> Vec<Inner> {
    let found = scan(args, &ENV);
    let split: Vec<&str> = found.values_of(&["S", "--split-string"]).collect();
    if split.is_empty() {
        return command_after(args, &ENV, 0);
    }
    let rest = found.rest().and_then(|i| args.get(i..)).unwrap_or_default();
    let mut line = split.join(" ");
    for arg in rest {
        line.push(' ');
        line.push_str(arg);
    }
    vec![Inner::Script(line)]
}

/// `watch` runs its arguments through `sh -c` unless `-x` is given.
fn watch(args: &[String]) -> Vec<Inner> {
    let found = scan(args, &WATCH);
    let Some(rest) = found.rest().and_then(|i| args.get(i..)) else {
        return Vec::new();
    };
    if found.has_flag(&["x", "--exec"]) {
        vec![Inner::Argv(rest.to_vec())]
    } else {
        vec![Inner::Script(rest.join(" "))]
    }
}

/// The shells whose `-c` string, or standard input, is a script.
const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh", "fish",
];

/// `sh -c 'script'`, also clustered (`bash -lc`, `sh -ec`) and after other
/// options (`bash -o pipefail -c …`). Without `-c` the shell runs a script
/// file (not visible here) or its input (see [`reads_script_from_stdin`]).
fn shell_c(args: &[String]) -> Vec<Inner> {
    let options = shell_options(args);
    match args.get(options.first_operand) {
        Some(script) if options.c => vec![Inner::Script(script.clone())],
        _ => Vec::new(),
    }
}

/// Whether `program` is a shell that reads its script from standard input
/// (`bash`, `sh -s`, `sudo bash` after unwrapping): then a here-document
/// or here-string given to it is a script.
pub(crate) fn reads_script_from_stdin(program: &str, args: &[String]) -> bool {
    if !SHELLS.contains(&program) {
        return false;
    }
    let options = shell_options(args);
    !options.c && (options.s || options.first_operand >= args.len())
}

struct ShellOptions {
    c: bool,
    s: bool,
    first_operand: usize,
}

fn shell_options(args: &[String]) -> ShellOptions {
    let mut options = ShellOptions {
        c: false,
        s: false,
        first_operand: args.len(),
    };
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" || arg == "-" {
            i += 1;
            break;
        }
        let Some(body) = arg.strip_prefix(['-', '+']).filter(|b| !b.is_empty()) else {
            break;
        };
        i += 1;
        if body.starts_with('-') {
            if ["-rcfile", "-init-file"].contains(&body) {
                i += 1;
            }
            continue;
        }
        options.c |= body.contains('c');
        options.s |= body.contains('s');
        // `-o option`, `-O shopt`: the next word is the option's name.
        if body.contains(['o', 'O']) {
            i += 1;
        }
    }
    options.first_operand = i.min(args.len());
    options
}

/// `find … -exec cmd {} ;` (and `-execdir`, `-ok`, `-okdir`, `… {} +`).
fn find_exec(args: &[String]) -> Vec<Inner> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if !["-exec", "-execdir", "-ok", "-okdir"].contains(&arg.as_str()) {
            continue;
        }
        let start = i;
        while args.get(i).is_some_and(|a| a != ";" && a != "+") {
            i += 1;
        }
        if let Some(cmd) = args.get(start..i).filter(|c| !c.is_empty()) {
            found.push(Inner::Argv(cmd.to_vec()));
        }
    }
    found
}

/// `socat … EXEC:'cmd args' …` / `SYSTEM:'cmd'`.
fn socat(args: &[String]) -> Vec<Inner> {
    let found = scan(args, &SOCAT);
    found
        .operands
        .iter()
        .filter_map(|&i| args.get(i))
        .filter_map(|addr| {
            let (kind, rest) = addr.split_once(':')?;
            let kind = kind.to_ascii_lowercase();
            (kind == "exec" || kind == "system").then(|| {
                let cmd = rest.split(',').next().unwrap_or_default();
                Inner::Script(cmd.to_string())
            })
        })
        .collect()
}

/// Local commands the OpenSSH tools run: `-o ProxyCommand=…`,
/// `-o LocalCommand=…`, and `-S program` for `scp`/`sftp`.
fn ssh_commands(found: &Scan<'_>, program_keys: &[&str]) -> Vec<Inner> {
    let mut inner = scripts(found, program_keys);
    for option in found.values_of(&["o"]) {
        if let Some((key, value)) = super::net::ssh_option(option) {
            let key = key.to_ascii_lowercase();
            if key == "proxycommand" || key == "localcommand" {
                inner.push(Inner::Script(value.to_string()));
            }
        }
    }
    inner
}
