// The joint check of two transcript records of one link, one exported by each party
// (docs/protocol.md "Joint check"). Each record is first checked alone (transcript_check.h);
// then each direction's chain in the sender's record is compared with the same direction in
// the receiver's record. Where they part, every pair of signatures, one from each record, that
// commits to the two different histories is named: a signature over a head at or above the
// seq where the chains part commits (through the hash chain) to that record's entry there.
// Such a pair proves that one of the two signers signed something false (the same signer
// twice: that signer did).
#pragma once

#include <string>
#include <vector>

#include "link/transcript_check.h"
#include "link/transcript_record.h"
#include "util/result.h"

namespace bc::link {

// At most this many conflicting pairs are listed per direction; the total is still counted.
inline constexpr std::size_t kMaxListedConflicts = 64;

// One signature of a record over a head of one direction.
struct SignedHead {
  int record = 0;            // 1 or 2: which record it was found in
  std::string where;         // "outgoing receipt 2", "end statement"
  std::string signer;        // party name as the record gives it
  crypto::SignPublicKey signer_key{};
  Seq seq = 0;               // the head is over 1..seq
  crypto::Hash head{};
  std::string signed_hex;    // the RECEIPT frame (signature at its end), or the end signature
};

struct JointConflict {
  SignedHead first;   // from record 1
  SignedHead second;  // from record 2
  bool same_signer() const { return first.signer_key == second.signer_key; }
};

struct JointDirection {
  std::string sender;
  std::string receiver;
  Seq in_sender_record = 0;    // entries of this direction in the sender's record
  Seq in_receiver_record = 0;  // ... and in the receiver's
  Seq agreed = 0;              // 1..agreed are the same entries in both
  Seq parted_at = 0;           // first seq where both hold an entry and they differ; 0 if none
  // Entries the receiver's record holds beyond the sender's whose sent_at is at or before the
  // sender's signed as-of time: messages the sender's record leaves out although, by their
  // stated time, they were sent before it ended. The receiver's word only (it signed them);
  // 0 when the sender's record has no signed end.
  Seq left_out_by_sender = 0;
  std::vector<JointConflict> conflicts;  // at most kMaxListedConflicts
  std::size_t conflicts_total = 0;
};

struct JointSummary {
  RecordSummary first;
  RecordSummary second;
  JointDirection first_to_second;  // sent by record 1's exporter
  JointDirection second_to_first;
  bool agree() const { return first_to_second.parted_at == 0 && second_to_first.parted_at == 0; }
};

// An error when either record does not check alone (naming which) or the two are not the two
// ends of one link (bad_format). Disagreement is not an error: it is the summary's verdict.
util::Result<JointSummary> check_joint(const TranscriptRecord& first, const TranscriptRecord& second);

}  // namespace bc::link
