//! `djdissect completions SHELL` and `djdissect man` are generated from the clap definitions:
//! every option of every subcommand is in them, and the bash script is valid bash.

mod common;

use clap::CommandFactory;
use common::run;
use djdissect::cli::Cli;

/// Every long option of every subcommand, as `--name`.
fn every_long_option() -> Vec<(String, String)> {
    let cmd = Cli::command();
    let mut v = Vec::new();
    for sub in cmd.get_subcommands() {
        for a in sub.get_arguments() {
            if let Some(l) = a.get_long() {
                v.push((sub.get_name().to_string(), format!("--{l}")));
            }
        }
    }
    assert!(v.len() >= 20, "{v:?}");
    v
}

#[test]
fn bash_completion_is_valid_bash_and_knows_every_option() {
    let (code, out, err) = run(&["completions", "bash"]);
    assert_eq!(code, 0, "{err}");
    for (sub, opt) in every_long_option() {
        assert!(out.contains(&opt), "bash completion lacks {sub} {opt}");
    }
    for sub in ["read", "synth", "tcp-streams", "completions", "man"] {
        assert!(
            out.contains(sub),
            "bash completion lacks the subcommand {sub}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("djdissect.bash");
    std::fs::write(&p, &out).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
}

#[test]
fn other_shells_get_a_script() {
    for (shell, marker) in [
        ("zsh", "#compdef djdissect"),
        ("fish", "complete -c djdissect"),
        ("elvish", "djdissect"),
        ("powershell", "djdissect"),
    ] {
        let (code, out, err) = run(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(out.contains("now-playing"), "{shell} lacks read's options");
    }
    // File arguments complete file names.
    let (_, zsh, _) = run(&["completions", "zsh"]);
    assert!(
        zsh.lines()
            .any(|l| l.contains("--write") && l.contains("_files")),
        "{zsh}"
    );
    let (code, _, err) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("bash"), "the error lists the shells: {err}");
}

#[test]
fn man_page_documents_every_subcommand_and_option() {
    let (code, out, err) = run(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(".ie") || out.contains(".TH djdissect 1"),
        "{out}"
    );
    assert!(out.contains(".TH djdissect 1"));
    for sub in ["READ", "SYNTH", "TCP-STREAMS", "COMPLETIONS", "MAN"] {
        assert!(
            out.contains(&format!(".SH \"DJDISSECT {sub}\"")),
            "man page lacks a section for {sub}"
        );
    }
    for (sub, opt) in every_long_option() {
        // roff escapes each '-' as '\-'.
        let escaped = opt.replace('-', "\\-");
        assert!(out.contains(&escaped), "man page lacks {sub} {opt}");
    }
    // The filter words and exit status of `read --help` are in the page too.
    assert!(out.contains("Filter words"), "read's after-help is missing");
}
