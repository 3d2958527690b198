use clap::Parser;

fn main() {
    let cli = djdissect::cli::Cli::parse();
    std::process::exit(djdissect::cli::run(cli));
}
