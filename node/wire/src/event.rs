//! Protobuf form of the stamped [`NodeEvent`] stream.
use prost::Message;
use tc_types::event::{PbftEvent, TableStats};
use tc_types::{Member, NodeEvent, PbftPhase, SCHEMA_VERSION, Stamped};

use crate::convert::{address, b256};
use crate::{PROTOCOL_VERSION, WireError, check_version, decode_pb, pb};

fn phase_to_pb(p: PbftPhase) -> i32 {
    (match p {
        PbftPhase::PrePrepare => pb::PbftPhase::PrePrepare,
        PbftPhase::Prepare => pb::PbftPhase::Prepare,
        PbftPhase::Commit => pb::PbftPhase::Commit,
        PbftPhase::Decided => pb::PbftPhase::Decided,
    }) as i32
}

fn phase_from_pb(field: &'static str, v: i32) -> Result<PbftPhase, WireError> {
    match pb::PbftPhase::try_from(v) {
        Ok(pb::PbftPhase::PrePrepare) => Ok(PbftPhase::PrePrepare),
        Ok(pb::PbftPhase::Prepare) => Ok(PbftPhase::Prepare),
        Ok(pb::PbftPhase::Commit) => Ok(PbftPhase::Commit),
        Ok(pb::PbftPhase::Decided) => Ok(PbftPhase::Decided),
        _ => Err(WireError::Invalid {
            field,
            reason: format!("unknown PBFT phase {v}"),
        }),
    }
}

fn pbft_to_pb(e: &PbftEvent) -> pb::PbftEvent {
    use pb::pbft_event::Kind;
    let kind = match e {
        PbftEvent::PhaseEntered {
            epoch,
            view,
            seq,
            phase,
            digest,
        } => Kind::PhaseEntered(pb::PhaseEntered {
            epoch: *epoch,
            view: *view,
            seq: *seq,
            phase: phase_to_pb(*phase),
            digest: digest.to_vec(),
        }),
        PbftEvent::QuorumReached {
            epoch,
            view,
            seq,
            phase,
            votes,
        } => Kind::QuorumReached(pb::QuorumReached {
            epoch: *epoch,
            view: *view,
            seq: *seq,
            phase: phase_to_pb(*phase),
            votes: *votes,
        }),
        PbftEvent::ViewChangeStarted {
            epoch,
            from_view,
            to_view,
            reason,
        } => Kind::ViewChangeStarted(pb::ViewChangeStarted {
            epoch: *epoch,
            from_view: *from_view,
            to_view: *to_view,
            reason: reason.clone(),
        }),
        PbftEvent::ViewChangeCompleted {
            epoch,
            view,
            primary,
        } => Kind::ViewChangeCompleted(pb::ViewChangeCompleted {
            epoch: *epoch,
            view: *view,
            primary: *primary,
        }),
        PbftEvent::CheckpointStable { epoch, seq } => {
            Kind::CheckpointStable(pb::CheckpointStable {
                epoch: *epoch,
                seq: *seq,
            })
        }
        PbftEvent::MessageDropped {
            from,
            message,
            reason,
        } => Kind::MessageDropped(pb::MessageDropped {
            has_from: from.is_some(),
            from: from.unwrap_or(0),
            message: message.clone(),
            reason: reason.clone(),
        }),
    };
    pb::PbftEvent { kind: Some(kind) }
}

fn pbft_from_pb(e: pb::PbftEvent) -> Result<PbftEvent, WireError> {
    use pb::pbft_event::Kind;
    Ok(match e.kind.ok_or(WireError::Missing("event.pbft.kind"))? {
        Kind::PhaseEntered(m) => PbftEvent::PhaseEntered {
            epoch: m.epoch,
            view: m.view,
            seq: m.seq,
            phase: phase_from_pb("event.pbft.phase_entered.phase", m.phase)?,
            digest: b256("event.pbft.phase_entered.digest", &m.digest)?,
        },
        Kind::QuorumReached(m) => PbftEvent::QuorumReached {
            epoch: m.epoch,
            view: m.view,
            seq: m.seq,
            phase: phase_from_pb("event.pbft.quorum_reached.phase", m.phase)?,
            votes: m.votes,
        },
        Kind::ViewChangeStarted(m) => PbftEvent::ViewChangeStarted {
            epoch: m.epoch,
            from_view: m.from_view,
            to_view: m.to_view,
            reason: m.reason,
        },
        Kind::ViewChangeCompleted(m) => PbftEvent::ViewChangeCompleted {
            epoch: m.epoch,
            view: m.view,
            primary: m.primary,
        },
        Kind::CheckpointStable(m) => PbftEvent::CheckpointStable {
            epoch: m.epoch,
            seq: m.seq,
        },
        Kind::MessageDropped(m) => PbftEvent::MessageDropped {
            from: m.has_from.then_some(m.from),
            message: m.message,
            reason: m.reason,
        },
    })
}

fn table_to_pb(t: &TableStats) -> pb::TableStats {
    pb::TableStats {
        name: t.name.clone(),
        live_sst_bytes: t.live_sst_bytes,
        estimated_keys: t.estimated_keys,
        memtable_bytes: t.memtable_bytes,
        bytes_read: t.bytes_read,
        bytes_written: t.bytes_written,
        reads: t.reads,
        writes: t.writes,
    }
}

fn table_from_pb(t: pb::TableStats) -> TableStats {
    TableStats {
        name: t.name,
        live_sst_bytes: t.live_sst_bytes,
        estimated_keys: t.estimated_keys,
        memtable_bytes: t.memtable_bytes,
        bytes_read: t.bytes_read,
        bytes_written: t.bytes_written,
        reads: t.reads,
        writes: t.writes,
    }
}

fn kind_to_pb(e: &NodeEvent) -> pb::event::Kind {
    use pb::event::Kind;
    match e {
        NodeEvent::NodeStarted {
            node,
            chain_id,
            fast_head,
            snail_head,
        } => Kind::NodeStarted(pb::NodeStarted {
            node: node.clone(),
            chain_id: *chain_id,
            fast_head: *fast_head,
            snail_head: *snail_head,
        }),
        NodeEvent::FastBlockCommitted {
            number,
            hash,
            epoch,
            view,
            proposer,
            tx_count,
            gas_used,
            timestamp_ms,
            signers,
        } => Kind::FastBlockCommitted(pb::FastBlockCommitted {
            number: *number,
            hash: hash.to_vec(),
            epoch: *epoch,
            view: *view,
            proposer: proposer.to_vec(),
            tx_count: *tx_count,
            gas_used: *gas_used,
            timestamp_ms: *timestamp_ms,
            signers: signers.clone(),
        }),
        NodeEvent::TxAdmitted {
            hash,
            sender,
            nonce,
        } => Kind::TxAdmitted(pb::TxAdmitted {
            hash: hash.to_vec(),
            sender: sender.to_vec(),
            nonce: *nonce,
        }),
        NodeEvent::TxRejected { hash, reason } => Kind::TxRejected(pb::TxRejected {
            hash: hash.map(|h| h.to_vec()).unwrap_or_default(),
            reason: reason.clone(),
        }),
        NodeEvent::Pbft(p) => Kind::Pbft(pbft_to_pb(p)),
        NodeEvent::SnailBlockMined {
            number,
            hash,
            difficulty,
            fruits,
        } => Kind::SnailBlockMined(pb::SnailBlockMined {
            number: *number,
            hash: hash.to_vec(),
            difficulty: *difficulty,
            fruits: *fruits,
        }),
        NodeEvent::SnailBlockImported {
            number,
            hash,
            miner,
            difficulty,
            fruits,
        } => Kind::SnailBlockImported(pb::SnailBlockImported {
            number: *number,
            hash: hash.to_vec(),
            miner: miner.to_vec(),
            difficulty: *difficulty,
            fruits: *fruits,
        }),
        NodeEvent::SnailReorg {
            old_head,
            new_head,
            depth,
        } => Kind::SnailReorg(pb::SnailReorg {
            old_head: old_head.to_vec(),
            new_head: new_head.to_vec(),
            depth: *depth,
        }),
        NodeEvent::CommitteeElected {
            epoch,
            members,
            seed,
            start_height,
        } => Kind::CommitteeElected(pb::CommitteeElected {
            epoch: *epoch,
            members: members
                .iter()
                .map(|m| pb::Member {
                    key: m.key.to_vec(),
                    coinbase: m.coinbase.to_vec(),
                    weight: m.weight,
                })
                .collect(),
            seed: seed.to_vec(),
            start_height: *start_height,
        }),
        NodeEvent::RotationScheduled { epoch, at_height } => {
            Kind::RotationScheduled(pb::RotationScheduled {
                epoch: *epoch,
                at_height: *at_height,
            })
        }
        NodeEvent::RotationDone {
            epoch,
            first_height,
        } => Kind::RotationDone(pb::RotationDone {
            epoch: *epoch,
            first_height: *first_height,
        }),
        NodeEvent::PeerConnected { peer } => Kind::PeerConnected(pb::Peer { peer: peer.clone() }),
        NodeEvent::PeerDisconnected { peer } => {
            Kind::PeerDisconnected(pb::Peer { peer: peer.clone() })
        }
        NodeEvent::PeerRtt { peer, rtt_us } => Kind::PeerRtt(pb::PeerRtt {
            peer: peer.clone(),
            rtt_us: *rtt_us,
        }),
        NodeEvent::PeerPenalized { peer, reason } => Kind::PeerPenalized(pb::PeerPenalized {
            peer: peer.clone(),
            reason: reason.clone(),
        }),
        NodeEvent::StorageStats { tables } => Kind::StorageStats(pb::StorageStats {
            tables: tables.iter().map(table_to_pb).collect(),
        }),
        NodeEvent::FruitsIncluded {
            snail_number,
            snail_hash,
            fruits,
        } => Kind::FruitsIncluded(pb::FruitsIncluded {
            snail_number: *snail_number,
            snail_hash: snail_hash.to_vec(),
            fruits: fruits
                .iter()
                .map(|f| pb::FruitRef {
                    number: f.number,
                    hash: f.hash.to_vec(),
                })
                .collect(),
        }),
        NodeEvent::RotationStarted {
            epoch,
            last_height,
            next_committee,
        } => Kind::RotationStarted(pb::RotationStarted {
            epoch: *epoch,
            last_height: *last_height,
            next_committee: next_committee.to_vec(),
        }),
    }
}

fn kind_from_pb(k: pb::event::Kind) -> Result<NodeEvent, WireError> {
    use pb::event::Kind;
    Ok(match k {
        Kind::NodeStarted(m) => NodeEvent::NodeStarted {
            node: m.node,
            chain_id: m.chain_id,
            fast_head: m.fast_head,
            snail_head: m.snail_head,
        },
        Kind::FastBlockCommitted(m) => NodeEvent::FastBlockCommitted {
            number: m.number,
            hash: b256("event.fast_block_committed.hash", &m.hash)?,
            epoch: m.epoch,
            view: m.view,
            proposer: b256("event.fast_block_committed.proposer", &m.proposer)?,
            tx_count: m.tx_count,
            gas_used: m.gas_used,
            timestamp_ms: m.timestamp_ms,
            signers: m.signers,
        },
        Kind::TxAdmitted(m) => NodeEvent::TxAdmitted {
            hash: b256("event.tx_admitted.hash", &m.hash)?,
            sender: address("event.tx_admitted.sender", &m.sender)?,
            nonce: m.nonce,
        },
        Kind::TxRejected(m) => NodeEvent::TxRejected {
            hash: if m.hash.is_empty() {
                None
            } else {
                Some(b256("event.tx_rejected.hash", &m.hash)?)
            },
            reason: m.reason,
        },
        Kind::Pbft(p) => NodeEvent::Pbft(pbft_from_pb(p)?),
        Kind::SnailBlockMined(m) => NodeEvent::SnailBlockMined {
            number: m.number,
            hash: b256("event.snail_block_mined.hash", &m.hash)?,
            difficulty: m.difficulty,
            fruits: m.fruits,
        },
        Kind::SnailBlockImported(m) => NodeEvent::SnailBlockImported {
            number: m.number,
            hash: b256("event.snail_block_imported.hash", &m.hash)?,
            miner: b256("event.snail_block_imported.miner", &m.miner)?,
            difficulty: m.difficulty,
            fruits: m.fruits,
        },
        Kind::SnailReorg(m) => NodeEvent::SnailReorg {
            old_head: b256("event.snail_reorg.old_head", &m.old_head)?,
            new_head: b256("event.snail_reorg.new_head", &m.new_head)?,
            depth: m.depth,
        },
        Kind::CommitteeElected(m) => NodeEvent::CommitteeElected {
            epoch: m.epoch,
            members: m
                .members
                .into_iter()
                .map(|x| {
                    Ok(Member {
                        key: b256("event.committee_elected.members.key", &x.key)?,
                        coinbase: address("event.committee_elected.members.coinbase", &x.coinbase)?,
                        weight: x.weight,
                    })
                })
                .collect::<Result<_, WireError>>()?,
            seed: b256("event.committee_elected.seed", &m.seed)?,
            start_height: m.start_height,
        },
        Kind::RotationScheduled(m) => NodeEvent::RotationScheduled {
            epoch: m.epoch,
            at_height: m.at_height,
        },
        Kind::RotationDone(m) => NodeEvent::RotationDone {
            epoch: m.epoch,
            first_height: m.first_height,
        },
        Kind::PeerConnected(m) => NodeEvent::PeerConnected { peer: m.peer },
        Kind::PeerDisconnected(m) => NodeEvent::PeerDisconnected { peer: m.peer },
        Kind::PeerRtt(m) => NodeEvent::PeerRtt {
            peer: m.peer,
            rtt_us: m.rtt_us,
        },
        Kind::PeerPenalized(m) => NodeEvent::PeerPenalized {
            peer: m.peer,
            reason: m.reason,
        },
        Kind::StorageStats(m) => NodeEvent::StorageStats {
            tables: m.tables.into_iter().map(table_from_pb).collect(),
        },
        Kind::FruitsIncluded(m) => NodeEvent::FruitsIncluded {
            snail_number: m.snail_number,
            snail_hash: b256("event.fruits_included.snail_hash", &m.snail_hash)?,
            fruits: m
                .fruits
                .iter()
                .map(|f| {
                    Ok(tc_types::FruitRef {
                        number: f.number,
                        hash: b256("event.fruits_included.fruits.hash", &f.hash)?,
                    })
                })
                .collect::<Result<_, WireError>>()?,
        },
        Kind::RotationStarted(m) => NodeEvent::RotationStarted {
            epoch: m.epoch,
            last_height: m.last_height,
            next_committee: b256("event.rotation_started.next_committee", &m.next_committee)?,
        },
    })
}

/// Encode a stamped event.
pub fn encode_event(e: &Stamped) -> Vec<u8> {
    pb::Event {
        version: PROTOCOL_VERSION,
        schema_version: SCHEMA_VERSION,
        seq: e.seq,
        time_ms: e.time_ms,
        kind: Some(kind_to_pb(&e.event)),
    }
    .encode_to_vec()
}

/// Decode a stamped event (rejects other protocol or schema versions).
pub fn decode_event(bytes: &[u8]) -> Result<Stamped, WireError> {
    let m: pb::Event = decode_pb("Event", bytes)?;
    check_version("Event", m.version)?;
    if m.schema_version != SCHEMA_VERSION {
        return Err(WireError::Invalid {
            field: "event.schema_version",
            reason: format!(
                "event schema {} not supported (this node speaks {SCHEMA_VERSION})",
                m.schema_version
            ),
        });
    }
    let event = kind_from_pb(m.kind.ok_or(WireError::Missing("event.kind"))?)?;
    Ok(Stamped {
        seq: m.seq,
        time_ms: m.time_ms,
        event,
    })
}
