fn main() {
    std::process::exit(wsnoop::cli::main());
}
