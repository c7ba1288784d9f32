//! The `kubetwin` command line: a thin layer of wiring over the library crates.

fn main() {
    println!("kubetwin");
}
