//! The default rule pack: what a careful team would want on from day one.
//! Each rule carries a one-line reason, shown to the client when it fires.

use airlock_policy::rules::{Action, RuleSpec};

use crate::config::PolicyConfig;

fn rule(name: &str, when: &str, action: Action, message: &str, reviewers: &[String]) -> RuleSpec {
    RuleSpec {
        name: format!("default:{name}"),
        when: when.to_string(),
        action,
        reviewers: if action == Action::Review {
            reviewers.to_vec()
        } else {
            Vec::new()
        },
        approvals: None,
        columns: Vec::new(),
        message: Some(message.to_string()),
    }
}

/// A CEL condition that is true when host `h` is on the egress allow-list
/// (`example.com` exactly, `*.example.com` any subdomain).
fn allowed_host(list: &[String]) -> String {
    if list.is_empty() {
        return "false".into();
    }
    list.iter()
        .map(|entry| match entry.strip_prefix("*.") {
            Some(suffix) => format!(
                "h.endsWith({})",
                cel_string(&format!(".{}", suffix.to_lowercase()))
            ),
            None => format!("h == {}", cel_string(&entry.to_lowercase())),
        })
        .collect::<Vec<_>>()
        .join(" || ")
}

/// A CEL string literal (single-quoted, escaped).
pub fn cel_string(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

pub fn default_pack(policy: &PolicyConfig) -> Vec<RuleSpec> {
    let reviewers = &policy.reviewers;
    let egress = allowed_host(&policy.egress_allow);
    vec![
        rule(
            "unparseable-on-strict",
            "facts.has_parse_error && connection.strict",
            Action::Block,
            "the gateway could not analyse this command, and this connection is strict",
            reviewers,
        ),
        // A syntax error the server shares is harmless: the server refuses
        // the text too. A text the analyser gave up on is not.
        rule(
            "unanalysable",
            "facts.has_parse_error && !facts.syntax_error",
            Action::Block,
            "the gateway could not analyse this command (it is nested too deeply for the analyser, or not in a language it can read), so it cannot tell what it would do",
            reviewers,
        ),
        rule(
            "server-file-access",
            "facts.sql.features.exists(f, f in ['copy_to_program', 'copy_from_program', 'copy_to_file', 'copy_from_file', 'server_file_function', 'into_outfile', 'into_dumpfile', 'load_data_infile'])",
            Action::Block,
            "SQL that reads or writes files or runs programs on the database server is not allowed",
            reviewers,
        ),
        rule(
            "unbounded-write",
            "facts.sql.statements.exists(s, s.kind in ['update', 'delete'] && !s.has_where)",
            Action::Block,
            "UPDATE or DELETE without WHERE would change every row; add a WHERE clause",
            reviewers,
        ),
        rule(
            "schema-destruction",
            "facts.sql.statements.exists(s, s.kind in ['drop', 'truncate'])",
            Action::Review,
            "DROP and TRUNCATE destroy data and need a reviewer's approval",
            reviewers,
        ),
        rule(
            "secret-tables",
            "facts.sql.tables_read.exists(t, t.matches('(?i)(secret|credential|password|passwd|api_?key|token)'))",
            Action::Review,
            "reading tables whose names say secrets or credentials needs a reviewer's approval",
            reviewers,
        ),
        rule(
            "opaque-code",
            "facts.sql.features.exists(f, f in ['code_block', 'dynamic_sql', 'dblink', 'foreign_data', 'alter_system'])",
            Action::Review,
            "code the gateway cannot see into (DO blocks, function bodies, SQL run from strings, remote servers) needs a reviewer's approval",
            reviewers,
        ),
        rule(
            "shell-egress",
            &format!("facts.shell.hosts.exists(h, !({egress}))"),
            Action::Block,
            "network tools may only reach hosts on the egress allow-list",
            reviewers,
        ),
        rule(
            "shell-key-encoding",
            "facts.shell.commands.exists(c, c.program in ['base64', 'xxd', 'od', 'gpg'] && c.argv.exists(a, a.matches('(id_rsa|id_ed25519|id_ecdsa|\\\\.pem|\\\\.key|\\\\.p12|credentials|\\\\.env)')))",
            Action::Block,
            "encoding key or credential files is how they are smuggled out",
            reviewers,
        ),
        rule(
            "shell-env-dump",
            "facts.shell.commands.exists(c, (c.program in ['env', 'printenv'] && size(c.argv) <= 1) || (c.program == 'set' && size(c.argv) == 1) || (c.program == 'export' && c.argv.exists(a, a == '-p')))",
            Action::Block,
            "dumping the environment exposes every secret in it",
            reviewers,
        ),
        rule(
            "shell-recursive-listing",
            "facts.shell.commands.exists(c, (c.program in ['ls', 'find', 'tree', 'du'] && c.argv.exists(a, a in ['/', '~', '$HOME', '/home', '/root', '/Users'])) && (c.program != 'ls' || c.argv.exists(a, a.matches('^-[a-zA-Z]*R'))))",
            Action::Block,
            "recursive listings of / or home directories are how data is surveyed for theft",
            reviewers,
        ),
    ]
}
