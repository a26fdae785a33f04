// MpscQueue: an intrusive, unbounded, multi-producer single-consumer queue
// (Dmitry Vyukov's design). Push is wait-free (one atomic exchange); Pop is
// for the single consumer only. Used for actor mailboxes.
#pragma once

#include <atomic>

namespace troupe {

// Embed (derive from) this in anything that travels through an MpscQueue.
struct MpscNode {
  std::atomic<MpscNode*> next{nullptr};
};

class MpscQueue {
 public:
  MpscQueue() : head_(&stub_), tail_(&stub_) {}
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Appends `node` (not owned by the queue: the consumer takes it back from
  // Pop). Thread-safe, wait-free. FIFO per producer.
  void Push(MpscNode* node) {
    node->next.store(nullptr, std::memory_order_relaxed);
    // seq_cst: pairs with the consumer's seq_cst load in Empty(), so a
    // producer that then finds the consumer "already scheduled" is sure the
    // consumer will see this node when it re-checks (see ActorCell::Run).
    MpscNode* prev = head_.exchange(node, std::memory_order_seq_cst);
    prev->next.store(node, std::memory_order_release);
  }

  // Removes and returns the oldest node, or nullptr when the queue is empty
  // or a Push is half done (then Empty() is false; retry later). Consumer
  // thread only.
  MpscNode* Pop() {
    MpscNode* tail = tail_;
    MpscNode* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) {
        return nullptr;
      }
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    if (tail != head_.load(std::memory_order_acquire)) {
      return nullptr;  // a producer has swapped head_ but not linked yet
    }
    Push(&stub_);
    next = tail->next.load(std::memory_order_acquire);
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    return nullptr;
  }

  // False only when the queue is empty (no node pushed since it was last
  // drained). Reads the producers' end only, so any thread may call it; the
  // consumer uses it after giving up its "scheduled" token.
  bool MaybeNonEmpty() const {
    return head_.load(std::memory_order_seq_cst) != &stub_;
  }

  // True when nothing is queued and no Push is under way. Conservative: a
  // half-done Push counts as non-empty. Consumer thread only.
  bool Empty() const {
    MpscNode* tail = tail_;
    if (tail->next.load(std::memory_order_acquire) != nullptr) {
      return false;
    }
    if (tail != &stub_) {
      return false;  // tail is a real node not yet consumed
    }
    return head_.load(std::memory_order_seq_cst) == &stub_;
  }

 private:
  std::atomic<MpscNode*> head_;  // producers' end
  MpscNode* tail_;               // consumer's end
  MpscNode stub_;
};

}  // namespace troupe
