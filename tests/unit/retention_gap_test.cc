// Where a source partition resumes against its log (processor/kafka/retention_gap.h).
#include "processor/kafka/retention_gap.h"

#include <gtest/gtest.h>

namespace touchstream {
namespace {

TEST(ResumeOffsetTest, AnOffsetInTheLogOrAtItsEndResumesThere) {
  for (int64_t next : {0, 100, 150, 200}) {
    const Resume resume = ResumeOffset("touchpoints/3", next, {100, 200});
    EXPECT_EQ(resume.offset, next);
    EXPECT_EQ(resume.problem, "");
  }
}

TEST(ResumeOffsetTest, AnOffsetRetentionDeletedIsAGapThatSkipsToTheEarliest) {
  const Resume resume = ResumeOffset("touchpoints/3", 40, {100, 200});
  EXPECT_TRUE(resume.gap);
  EXPECT_EQ(resume.offset, 100);
  EXPECT_EQ(resume.problem,
            "retention gap on touchpoints/3: the next offset to process is 40 but the earliest in "
            "Kafka is 100 (60 events deleted unprocessed)");
}

// A recreated topic, or a log an unclean leader election truncated: no gap, but not in the log
// either, and librdkafka would report it at the first fetch over and over.
TEST(ResumeOffsetTest, AnOffsetPastTheLogsEndIsNamedAsSuch) {
  const Resume resume = ResumeOffset("touchpoints-repartition/3", 500, {0, 20});
  EXPECT_FALSE(resume.gap);
  EXPECT_EQ(resume.offset, 0);
  EXPECT_NE(resume.problem.find("is 500 but its log ends at 20 (the topic was recreated"),
            std::string::npos)
      << resume.problem;
  EXPECT_NE(GapError(resume.problem).message().find("skip_to_earliest"), std::string::npos);
}

}  // namespace
}  // namespace touchstream
