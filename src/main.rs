//! The `regelwerk` command line.
//!
//! Exit codes: 0 success, 1 content errors (nothing was published) or a failed write, 2 usage errors.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use regelwerk::diagnostics::Diagnostics;
use regelwerk::{BuildError, BuildOptions};

/// regelwerk — turns versioned Markdown guidelines, responsibility matrices and an AI register
/// into a static, searchable public website.
#[derive(Parser)]
#[command(name = "regelwerk", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new minimal site that builds and passes `check` as it is.
    Init {
        /// Folder for the new site (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Check the site and write it to the output folder (replaced only if the whole build succeeds).
    Build {
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Output folder [default: <root>/public].
        #[arg(long)]
        output: Option<PathBuf>,
        /// Print how long each stage took.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Check the site and report every problem with file, line and rule; writes nothing.
    Check {
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Summarise what changed in policy terms between two git revisions (for pull-request comments).
    Diff {
        /// The earlier revision (branch, tag or commit), e.g. origin/main.
        from: String,
        /// The later revision, e.g. HEAD.
        to: String,
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormat::Markdown)]
        format: DiffFormat,
    },
    /// Build the site for preview and serve it on http://127.0.0.1:<port>/.
    Serve {
        /// The site root (the folder with regelwerk.toml).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 1111)]
        port: u16,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    /// A Markdown summary, ready to paste into a pull-request comment.
    Markdown,
    /// The same as JSON.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Readable text with the offending source line.
    Human,
    /// A JSON array of {path, line, column, code, severity, message}.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Init { dir } => init(&dir),
        Command::Build {
            root,
            output,
            verbose,
        } => {
            let mut options = BuildOptions::new(&root);
            if let Some(output) = output {
                options.output = output;
            }
            build(&options, verbose)
        }
        Command::Check { root, format } => check(&root, format),
        Command::Serve { root, port } => serve(&root, port),
        Command::Diff {
            from,
            to,
            root,
            format,
        } => diff(&root, &from, &to, format),
    }
}

fn init(dir: &Path) -> ExitCode {
    match regelwerk::init::init(dir) {
        Ok(files) => {
            println!("Neue Website in {} angelegt:", dir.display());
            for file in files {
                println!("  {file}");
            }
            match regelwerk::init::init_git(dir) {
                regelwerk::init::GitSetup::Committed => {
                    println!(
                        "Ein git-Repository mit einem ersten Commit ist angelegt: jeder Commit wird ein Stand."
                    )
                }
                regelwerk::init::GitSetup::ExistingRepository => {
                    println!(
                        "Der Ordner liegt in einem git-Repository: committen Sie die neuen Dateien."
                    )
                }
                regelwerk::init::GitSetup::Skipped(reason) => {
                    eprintln!(
                        "Hinweis: kein git-Repository angelegt ({reason}). Ohne git gibt es keine Versionsgeschichte."
                    )
                }
            }
            println!("Als Nächstes: regelwerk serve --root {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("Fehler: {err}");
            ExitCode::from(2)
        }
    }
}

fn report(diagnostics: &Diagnostics, root: &Path) {
    if diagnostics.is_empty() {
        return;
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    eprint!("{}", diagnostics.to_human(root, color));
}

fn build(options: &BuildOptions, verbose: bool) -> ExitCode {
    match regelwerk::build(options) {
        Ok(built) => {
            report(&built.diagnostics, &options.root);
            if verbose {
                for (stage, time) in &built.timings {
                    eprintln!("  {stage:<10} {:>8.1} ms", time.as_secs_f64() * 1000.0);
                }
            }
            println!(
                "{} Dateien nach {} geschrieben.",
                built.files,
                options.output.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => build_failed(err, &options.root),
    }
}

fn build_failed(err: BuildError, root: &Path) -> ExitCode {
    match err {
        BuildError::Invalid(diagnostics) => {
            report(&diagnostics, root);
            eprintln!("Nichts veröffentlicht: die bisherige Ausgabe bleibt unverändert.");
        }
        BuildError::Output { path, error } => {
            eprintln!(
                "Fehler: {} konnte nicht geschrieben werden: {error}. Die bisherige Ausgabe bleibt unverändert.",
                path.display()
            );
        }
    }
    ExitCode::from(1)
}

fn check(root: &Path, format: Format) -> ExitCode {
    let (_, diagnostics) = regelwerk::check(root, None, regelwerk::today());
    match format {
        Format::Json => println!("{}", diagnostics.to_json()),
        Format::Human => {
            report(&diagnostics, root);
            if diagnostics.is_empty() {
                println!("{}", diagnostics.summary());
            }
        }
    }
    if diagnostics.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn diff(root: &Path, from: &str, to: &str, format: DiffFormat) -> ExitCode {
    match regelwerk::diff::diff(root, from, to) {
        Ok(diff) => {
            match format {
                DiffFormat::Markdown => print!("{}", regelwerk::diff::to_markdown(&diff)),
                DiffFormat::Json => println!("{}", regelwerk::diff::to_json(&diff)),
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("Fehler: {err}.");
            ExitCode::from(2)
        }
    }
}

fn serve(root: &Path, port: u16) -> ExitCode {
    let url = regelwerk::serve::local_url(port);
    let mut options = BuildOptions::new(root);
    options.output = regelwerk::serve::preview_dir(root);
    options.base_url = Some(url.clone());
    match regelwerk::build(&options) {
        Ok(built) => report(&built.diagnostics, root),
        Err(err) => return build_failed(err, root),
    }
    println!("Vorschau: {url}  (Strg+C beendet)");
    match regelwerk::serve::serve_dir(&options.output, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "Fehler: der Server kann nicht auf 127.0.0.1:{port} starten: {err}. Ist der Port belegt? Wählen Sie einen anderen mit --port."
            );
            ExitCode::from(2)
        }
    }
}
