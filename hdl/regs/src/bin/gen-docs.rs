//! Print `docs/registers.md`: `cargo run -p nic-regs --bin gen-docs > docs/registers.md`.
fn main() {
    print!("{}", nic_regs::docs::markdown());
}
