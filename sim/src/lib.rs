//! nic-sim: the simulation model of the card and the front-door binary `nic`.
pub mod demo;
pub mod pcap;
