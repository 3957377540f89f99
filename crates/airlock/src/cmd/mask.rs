//! `airlock mask test`: what the detectors find in a text, for people
//! tuning masking. The text is theirs, so the matches are shown to them;
//! nothing is logged or recorded.

use std::io::Read;

use anyhow::Context;
use serde_json::json;

use airlock_core::Config;
use airlock_core::masking::MaskPolicy;

use crate::cli::MaskCmd;

pub fn run(config: Config, cmd: MaskCmd) -> anyhow::Result<()> {
    let MaskCmd::Test(json) = cmd;
    let policy = MaskPolicy::build(&config.masking, &config.data_dir)
        .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.message))?;
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("cannot read standard input")?;
    let masker = policy.masker();
    let findings = masker.findings(&input);
    let masked = masker.mask_bytes(&input);
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for f in &findings {
        *counts.entry(f.detector.to_string()).or_default() += 1;
    }
    if json.json {
        let items: Vec<_> = findings
            .iter()
            .map(|f| {
                let (line, column) = position(&input, f.start);
                json!({
                    "detector": &*f.detector,
                    "start": f.start,
                    "end": f.end,
                    "line": line,
                    "column": column,
                    "text": String::from_utf8_lossy(&input[f.start..f.end]),
                })
            })
            .collect();
        let out = json!({
            "detectors": masker.enabled_detectors(),
            "findings": items,
            "counts": counts,
            "masked": String::from_utf8_lossy(&masked),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if findings.is_empty() {
        println!(
            "nothing found ({} bytes, detectors: {})",
            input.len(),
            masker.enabled_detectors().join(", ")
        );
        return Ok(());
    }
    println!("{:<10} {:<24} TEXT", "LINE:COL", "DETECTOR");
    for f in &findings {
        let (line, column) = position(&input, f.start);
        let text = String::from_utf8_lossy(&input[f.start..f.end]);
        println!(
            "{:<10} {:<24} {}",
            format!("{line}:{column}"),
            &*f.detector,
            shorten(&text.replace('\n', "\\n"), 60)
        );
    }
    println!();
    for (detector, n) in &counts {
        println!("{n:>6}  {detector}");
    }
    Ok(())
}

/// 1-based line and column (in bytes) of an offset.
fn position(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, column)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}
