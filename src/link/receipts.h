// Signing and checking RECEIPT frames. A receipt is signed by the receiver's identity key over
// wire::receipt_signing_bytes with context = signer key ‖ recipient key, which binds it to
// this link and this direction: it cannot be replayed as a receipt of another link, nor
// reflected back to its signer.
#pragma once

#include "crypto/sign.h"
#include "util/bytes.h"
#include "wire/frames.h"

namespace bc::link {

util::Bytes receipt_context(const crypto::SignPublicKey& signer,
                            const crypto::SignPublicKey& recipient);
// Fills receipt.signature.
void sign_receipt(wire::ReceiptFrame& receipt, const crypto::SigningKey& signer,
                  const crypto::SignPublicKey& recipient);
bool verify_receipt(const wire::ReceiptFrame& receipt, const crypto::SignPublicKey& signer,
                    const crypto::SignPublicKey& recipient);

}  // namespace bc::link
