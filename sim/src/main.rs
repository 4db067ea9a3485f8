fn main() { println!("nic"); }
