//! `djdissect completions SHELL` and `djdissect man`: generated from the clap definitions
//! (clap_complete, clap_mangen), so they never drift from the options `--help` shows.

use std::io::{self, Write};

use clap::CommandFactory;

use super::Cli;

/// Write the completion script for `shell` to standard output.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut cmd, "djdissect", &mut out);
    finish(out.flush())
}

/// Write the manual page (roff) to standard output: `djdissect(1)` with every subcommand's
/// options in sections of their own, as `man` shows them.
pub fn man() -> i32 {
    let mut buf = Vec::new();
    let r = render_man(&mut buf).and_then(|()| io::stdout().lock().write_all(&buf));
    finish(r)
}

fn render_man(out: &mut Vec<u8>) -> io::Result<()> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd.clone()).render(out)?;
    // clap_mangen renders one command per page; the subcommands' own options follow as
    // sections of the same page so that `man djdissect` holds everything.
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("djdissect {}", sub.get_name());
        let man = clap_mangen::Man::new(sub.clone().bin_name(&name).display_name(&name));
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        man.render_options_section(&mut part)?;
        if sub.get_after_help().is_some() {
            man.render_extra_section(&mut part)?;
        }
        writeln!(out, ".SH \"DJDISSECT {}\"", sub.get_name().to_uppercase())?;
        // The subcommand's sections become subsections of its own.
        for line in String::from_utf8_lossy(&part).lines() {
            match line.strip_prefix(".SH ") {
                Some(title) => writeln!(out, ".SS {}", title.to_lowercase())?,
                None => writeln!(out, "{line}")?,
            }
        }
    }
    Ok(())
}

fn finish(r: io::Result<()>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("djdissect: cannot write output: {e}");
            2
        }
    }
}
