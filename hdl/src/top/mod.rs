//! Top-level blocks that are exported as Verilog: the whole NIC per PHY (`nic`), and its
//! receive and transmit paths alone per PHY.
pub mod drive;
pub mod engines;
pub mod nic;
pub mod rx_path;
pub mod tx_path;

use crate::verilog::export::{export, VerilogModule};

/// Every exported top, freshly generated, in a stable order.
pub fn all() -> Vec<VerilogModule> {
    vec![
        export("nic_manchester", &mut nic::NicManchesterTop::default()),
        export("nic_gmii", &mut nic::NicGmiiTop::default()),
        export("nic_mii", &mut nic::NicMiiTop::default()),
        export("nic_rx_manchester", &mut rx_path::RxManchesterTop::default()),
        export("nic_rx_gmii", &mut rx_path::RxGmiiTop::default()),
        export("nic_rx_mii", &mut rx_path::RxMiiTop::default()),
        export("nic_tx_manchester", &mut tx_path::TxManchesterTop::default()),
        export("nic_tx_gmii", &mut tx_path::TxGmiiTop::default()),
        export("nic_tx_mii", &mut tx_path::TxMiiTop::default()),
    ]
}

/// The card's blocks, each as a top of its own, for `nic-hdl pnr --top NAME`: placed alone,
/// a block shows what limits it without the rest of the card around it. Not exported with
/// [`all`]: they are parts, not products.
pub fn blocks() -> Vec<VerilogModule> {
    use crate::phy::manchester_rx::{ManchesterRx, RxConfig};
    vec![
        export("rx_dma", &mut crate::dma::rx::RxDma::default()),
        export("tx_dma", &mut crate::dma::tx::TxDma::default()),
        export("axi_arbiter", &mut crate::dma::axi_arbiter::AxiArbiter::default()),
        export("csr", &mut crate::csr::Csr::default()),
        export("irq", &mut crate::irq::Irq::new(125)),
        export("rx_mac_path", &mut rx_path::RxMacPath::default()),
        export("mac_tx", &mut crate::mac::tx::MacTx::default()),
        export("gmii_rx", &mut crate::phy::gmii::GmiiRx::default()),
        export("mii_rx", &mut crate::phy::mii::MiiRx::default()),
        export("manchester_rx", &mut ManchesterRx::<{ rx_path::MANCHESTER_W }>::new(&RxConfig::default())),
    ]
}

/// A top or a block by name.
pub fn by_name(name: &str) -> Option<VerilogModule> {
    all().into_iter().chain(blocks()).find(|m| m.name == name)
}
