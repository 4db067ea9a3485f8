//! nic-sim: the simulation model of the card and the front-door binary `nic`.
pub mod bench;
pub mod demo;
pub mod host;
pub mod line;
pub mod model;
pub mod pcap;
pub mod replay;
pub mod sim_backend;
