//! `dispatch`: the server (`serve`, `migrate`) and its command-line client (`incident …`).

fn main() -> std::process::ExitCode {
    dispatch::cli::main()
}
