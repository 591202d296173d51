#include "link/receipts.h"

#include "wire/receipt.h"

namespace bc::link {

util::Bytes receipt_context(const crypto::SignPublicKey& signer,
                            const crypto::SignPublicKey& recipient) {
  util::Bytes context;
  util::append(context, signer);
  util::append(context, recipient);
  return context;
}

void sign_receipt(wire::ReceiptFrame& receipt, const crypto::SigningKey& signer,
                  const crypto::SignPublicKey& recipient) {
  util::Bytes context = receipt_context(signer.public_key(), recipient);
  receipt.signature = signer.sign(wire::receipt_signing_bytes(receipt, context));
}

bool verify_receipt(const wire::ReceiptFrame& receipt, const crypto::SignPublicKey& signer,
                    const crypto::SignPublicKey& recipient) {
  util::Bytes context = receipt_context(signer, recipient);
  return crypto::verify(signer, wire::receipt_signing_bytes(receipt, context), receipt.signature);
}

}  // namespace bc::link
