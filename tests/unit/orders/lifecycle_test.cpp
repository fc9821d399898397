#include "orders/lifecycle.hpp"

#include <gtest/gtest.h>

namespace dx::orders {
namespace {

using Kind = Change::Kind;

storage::OrderRecord Requested() {
  storage::OrderRecord o;
  o.id = "r1";
  o.stage = stage::kRequested;
  o.requested_at = o.clock_start = 1000;
  o.code = "MR-KNEE";
  return o;
}

Change Make(Kind kind, std::int64_t at) {
  Change change;
  change.kind = kind;
  change.actor = "someone";
  change.at = at;
  return change;
}

storage::OrderRecord Step(const storage::OrderRecord& order, Change change, const char* event) {
  auto applied = Apply(order, change);
  EXPECT_TRUE(applied) << (applied ? "" : applied.error().message);
  if (!applied) return order;
  EXPECT_EQ(applied->event.event, event);
  EXPECT_EQ(applied->event.at, change.at);
  EXPECT_EQ(applied->event.actor, "someone");
  return applied->order;
}

TEST(Lifecycle, TheWholePathwaySetsEveryClockTime) {
  Change vet = Make(Kind::kVet, 2000);
  vet.decision = "accept";
  auto o = Step(Requested(), vet, "vetted");
  Change book = Make(Kind::kBook, 3000);
  book.site = "RXX01";
  book.appointment = 9000;
  book.accession_number = "DX1";
  o = Step(o, book, "booked");
  o = Step(o, Make(Kind::kPerform, 9100), "performed");
  o = Step(o, Make(Kind::kReport, 9500), "reported");
  o = Step(o, Make(Kind::kAcknowledge, 9900), "acknowledged");
  EXPECT_EQ(o.stage, stage::kAcknowledged);
  EXPECT_EQ(o.vetted_at, 2000);
  EXPECT_EQ(o.booked_at, 3000);
  EXPECT_EQ(o.booked_for, 9000);
  EXPECT_EQ(o.accession_number, "DX1");
  EXPECT_EQ(o.performed_at, 9100);
  EXPECT_EQ(o.reported_at, 9500);
  EXPECT_EQ(o.acknowledged_at, 9900);
  EXPECT_EQ(o.clock_start, 1000);
  EXPECT_FALSE(Waiting(o.stage));
}

TEST(Lifecycle, IllegalChangesNameTheStage) {
  Change cancel = Make(Kind::kCancel, 2000);
  cancel.reason = "no longer needed";
  auto cancelled = Step(Requested(), cancel, "cancelled");
  auto reported = Apply(cancelled, Make(Kind::kReport, 3000));
  ASSERT_FALSE(reported);
  EXPECT_EQ(reported.error().code, ErrorCode::kConflict);
  EXPECT_NE(reported.error().message.find("cancelled"), std::string::npos) << reported.error().message;
  EXPECT_FALSE(Apply(Requested(), Make(Kind::kPerform, 3000)));  // not vetted
  EXPECT_FALSE(Apply(Requested(), Make(Kind::kAcknowledge, 3000)));
  EXPECT_FALSE(Apply(cancelled, cancel));  // cancelled twice
}

TEST(Lifecycle, MissingFieldsAreInvalidInput) {
  Change reject = Make(Kind::kVet, 2000);
  reject.decision = "reject";  // no reason
  auto refused = Apply(Requested(), reject);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
  Change anonymous = Make(Kind::kCancel, 2000);
  anonymous.reason = "x";
  anonymous.actor.clear();
  EXPECT_FALSE(Apply(Requested(), anonymous));
  Change maybe = Make(Kind::kVet, 2000);
  maybe.decision = "maybe";
  EXPECT_FALSE(Apply(Requested(), maybe));
}

TEST(Lifecycle, RejectionEndsTheWaitAndAChangeOfExaminationIsRecorded) {
  Change reject = Make(Kind::kVet, 2000);
  reject.decision = "reject";
  reject.reason = "ultrasound first";
  auto rejected = Step(Requested(), reject, "rejected");
  EXPECT_EQ(rejected.ended_at, 2000);
  EXPECT_FALSE(Waiting(rejected.stage));

  Change swap = Make(Kind::kVet, 2000);
  swap.decision = "change";
  swap.new_code = "US-SOFT-TISSUE";
  swap.new_modality = "US";
  swap.new_test_group = "NOUS";
  swap.reason = "soft tissue lump";
  auto applied = Apply(Requested(), swap);
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->event.event, "protocol-changed");
  EXPECT_EQ(applied->order.code, "US-SOFT-TISSUE");
  EXPECT_EQ(applied->order.test_group, "NOUS");
  EXPECT_NE(applied->event.detail.find("\"from\":\"MR-KNEE\""), std::string::npos) << applied->event.detail;
}

TEST(Lifecycle, APatientDelayRestartsTheClockAndDropsTheBooking) {
  Change vet = Make(Kind::kVet, 2000);
  vet.decision = "accept";
  auto o = Step(Requested(), vet, "vetted");
  Change book = Make(Kind::kBook, 3000);
  book.site = "RXX01";
  book.appointment = 9000;
  book.accession_number = "DX1";
  o = Step(o, book, "booked");
  Change delay = Make(Kind::kPatientDelay, 8000);
  delay.reason = "patient cancelled: on holiday";
  o = Step(o, delay, "patient-delay");
  EXPECT_EQ(o.stage, stage::kVetted);
  EXPECT_EQ(o.clock_start, 8000);
  EXPECT_EQ(o.requested_at, 1000);
  EXPECT_EQ(o.booked_for, 0);
  EXPECT_TRUE(Waiting(o.stage));
  EXPECT_FALSE(Apply(Requested(), delay));  // only a booked request can be delayed by the patient
}

TEST(Lifecycle, AProcedureStepStartsTheTestAndMayBeDiscontinued) {
  Change vet = Make(Kind::kVet, 2000);
  vet.decision = "accept";
  Change book = Make(Kind::kBook, 3000);
  book.site = "RXX01";
  book.appointment = 9000;
  book.accession_number = "DX1";
  book.station = "CT01";
  auto booked = Step(Step(Requested(), vet, "vetted"), book, "booked");
  EXPECT_NE(booked.details.find("\"station\":\"CT01\""), std::string::npos);

  auto started = Step(booked, Make(Kind::kStart, 9050), "in-progress");
  EXPECT_EQ(started.stage, stage::kInProgress);
  EXPECT_EQ(started.performed_at, 9050);  // the test took place when it started
  EXPECT_FALSE(Waiting(started.stage));
  EXPECT_FALSE(Apply(started, Make(Kind::kStart, 9060)));
  EXPECT_FALSE(Apply(started, Make(Kind::kReport, 9060)));

  auto performed = Step(started, Make(Kind::kPerform, 9700), "performed");
  EXPECT_EQ(performed.performed_at, 9050);  // completing keeps the start

  Change discontinue = Make(Kind::kDiscontinue, 9100);
  discontinue.reason = "patient unwell";
  auto again = Step(started, discontinue, "discontinued");
  EXPECT_EQ(again.stage, stage::kBooked);
  EXPECT_EQ(again.performed_at, 0);
  EXPECT_TRUE(Waiting(again.stage));
  EXPECT_FALSE(Apply(booked, discontinue));  // only a started request can be discontinued
}

}  // namespace
}  // namespace dx::orders
