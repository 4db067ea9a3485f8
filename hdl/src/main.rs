use rust_hdl::prelude::*;
fn main() {
    let mut uut = nic_hdl::mac::crc::Crc32Byte::default();
    uut.connect_all();
    print!("{}", generate_verilog(&uut));
}
