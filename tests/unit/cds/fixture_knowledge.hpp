// A small knowledge base written inline for unit tests, independent of the real
// knowledge/ content (which changes). Built once; read-only afterwards.
#pragma once

#include <string>

#include "cds/knowledge_base.hpp"
#include "cds/loader.hpp"

namespace dx::cds::testing {

inline const char* kFixtureFindings = R"(
[[finding]]
id = "cough"
label = "Unexplained cough"
kind = "symptom"
snomed = "49727002"
synonyms = ["persistent cough"]

[[finding]]
id = "fatigue"
label = "Fatigue"
kind = "symptom"
synonyms = ["tired all the time"]

[[finding]]
id = "weight_loss"
label = "Unexplained weight loss"
kind = "symptom"
snomed = "448765001"
synonyms = ["losing weight"]
question = "Has the patient lost weight without trying?"

[[finding]]
id = "haemoptysis"
label = "Haemoptysis"
kind = "symptom"
synonyms = ["coughing up blood"]

[[finding]]
id = "ever_smoked"
label = "Ever smoked"
kind = "history"
synonyms = ["smoker", "ex-smoker"]

[[finding]]
id = "low_back_pain"
label = "Low back pain"
kind = "symptom"
synonyms = ["back pain"]

[[finding]]
id = "sciatica"
label = "Sciatica"
kind = "symptom"

[[finding]]
id = "bilateral_sciatica"
label = "Bilateral sciatica"
kind = "symptom"
implies = ["sciatica"]

[[finding]]
id = "saddle_anaesthesia"
label = "Saddle anaesthesia"
kind = "symptom"
synonyms = ["saddle numbness"]

[[finding]]
id = "postmenopausal_bleeding"
label = "Postmenopausal bleeding"
kind = "symptom"

[[finding]]
id = "no_improvement"
label = "No improvement after antibiotics"
kind = "history"
)";

inline const char* kFixtureInvestigations = R"(
[[investigation]]
code = "XR-CHEST"
name = "Chest X-ray"
modality = "XR"
region = "chest"
snomed = "399208008"
dose_msv = 0.02
synonyms = ["CXR"]

[[investigation]]
code = "CT-CHEST"
name = "CT chest"
modality = "CT"
region = "chest"
contrast = true
dose_msv = 8.0
dose_band = "III"

[[investigation]]
code = "REF-2WW-LUNG"
name = "Suspected cancer referral: lung"
modality = "REFERRAL"
region = "chest"

[[investigation]]
code = "NO-IMAGING"
name = "No imaging"
modality = "NONE"
region = "none"

[[investigation]]
code = "XR-LSPINE"
name = "Lumbar spine X-ray"
modality = "XR"
region = "lumbar spine"
dose_msv = 1.3

[[investigation]]
code = "MR-LSPINE"
name = "MRI lumbar spine"
modality = "MR"
region = "lumbar spine"

[[investigation]]
code = "REF-ED"
name = "Emergency department"
modality = "REFERRAL"
region = "none"

[[investigation]]
code = "US-PELVIS"
name = "Pelvic ultrasound"
modality = "US"
region = "pelvis"
)";

inline const char* kFixtureLung = R"(
[topic]
id = "lung"
title = "Lung"
guidelines = ["NICE NG12"]

[[rule]]
id = "LUNG-40"
version = 2
title = "Two symptoms, 40+"
applies_to = { age_min = 40 }
any_of = ["cough", "fatigue", "weight_loss"]
any_of_min = 2
none_of = ["haemoptysis"]
recommend = [{ investigation = "XR-CHEST", note = "within 2 weeks" }]
urgency = "within-2-weeks"
advise_against = [{ investigation = "CT-CHEST", reason = "Chest X-ray first" }]
score = 9
source = { guideline = "NICE NG12", recommendation = "1.1.2", url = "https://www.nice.org.uk/guidance/ng12" }
rationale = "Two symptoms at 40+."
asks = ["haemoptysis"]

[[rule]]
id = "LUNG-40-SMOKER"
version = 1
title = "One symptom, ever smoked, 40+"
applies_to = { age_min = 40 }
any_of = ["cough", "fatigue", "weight_loss"]
history = ["ever_smoked"]
none_of = ["haemoptysis"]
recommend = [{ investigation = "XR-CHEST" }]
urgency = "within-2-weeks"
score = 9
source = { guideline = "NICE NG12", recommendation = "1.1.2", url = "https://www.nice.org.uk/guidance/ng12" }
rationale = "One symptom in a smoker at 40+."

[[rule]]
id = "LUNG-HAEM"
version = 1
title = "Haemoptysis 40+"
applies_to = { age_min = 40 }
all_of = ["haemoptysis"]
recommend = [{ investigation = "REF-2WW-LUNG" }]
urgency = "within-2-weeks"
advise_against = [{ investigation = "CT-CHEST", reason = "Refer instead" }]
score = 9
source = { guideline = "NICE NG12", recommendation = "1.1.1", url = "https://www.nice.org.uk/guidance/ng12" }
rationale = "Haemoptysis at 40+."
)";

inline const char* kFixtureBack = R"(
[topic]
id = "back"
title = "Back"
guidelines = ["NICE NG59"]

[[rule]]
id = "LBP-NONE"
version = 1
title = "No red flags"
applies_to = { age_min = 16 }
any_of = ["low_back_pain", "sciatica"]
none_of = ["saddle_anaesthesia", "bilateral_sciatica"]
recommend = [{ investigation = "NO-IMAGING" }]
urgency = "none"
advise_against = [
  { investigation = "XR-LSPINE", reason = "X-ray does not change management" },
  { investigation = "MR-LSPINE", reason = "MRI only in specialist care" },
]
score = 8
source = { guideline = "NICE NG59", recommendation = "1.1.4", url = "https://www.nice.org.uk/guidance/ng59" }
rationale = "No imaging without red flags."
asks = ["saddle_anaesthesia", "bilateral_sciatica"]

[[rule]]
id = "LBP-CES"
version = 1
title = "Cauda equina"
applies_to = { age_min = 16 }
any_of = ["low_back_pain", "sciatica"]
red_flags = ["saddle_anaesthesia", "bilateral_sciatica"]
recommend = [
  { investigation = "REF-ED" },
  { investigation = "MR-LSPINE", score = 8 },
]
urgency = "immediate"
score = 9
source = { guideline = "NICE CKS", recommendation = "CES", url = "https://cks.nice.org.uk/" }
rationale = "Suspected cauda equina."

[[rule]]
id = "GYN-PMB"
version = 1
title = "Postmenopausal bleeding"
applies_to = { age_min = 55, sex = "female" }
all_of = ["postmenopausal_bleeding"]
recommend = [{ investigation = "US-PELVIS" }]
urgency = "within-2-weeks"
score = 6
source = { guideline = "NICE NG12", recommendation = "1.5.x", url = "https://www.nice.org.uk/guidance/ng12" }
rationale = "Test fixture for a may-be-appropriate score."
)";

inline KnowledgeSources FixtureSources() {
  KnowledgeSources sources;
  sources.findings.push_back({"findings.toml", kFixtureFindings});
  sources.investigations.push_back({"investigations.toml", kFixtureInvestigations});
  sources.topics.push_back({"topics/back.toml", kFixtureBack});
  sources.topics.push_back({"topics/lung.toml", kFixtureLung});
  return sources;
}

// Aborts the test binary if the fixture itself is invalid (a bug in the test).
inline const KnowledgeBase& FixtureKnowledge() {
  static const KnowledgeBase base = [] {
    auto loaded = ParseKnowledgeBase(FixtureSources());
    if (!loaded) throw std::runtime_error("fixture knowledge invalid: " + loaded.error().message);
    return std::move(*loaded);
  }();
  return base;
}

}  // namespace dx::cds::testing
