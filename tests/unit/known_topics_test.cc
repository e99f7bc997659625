// KnownTopics: a producer knows its output topics' partitions before their first record, and
// asks for no topic that does not exist. What the producer knows shows in librdkafka's own
// statistics: each topic it holds, with its partitions once their metadata arrived.
#include "processor/kafka/known_topics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iterator>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "processor/embedded/embedded_kafka.h"

namespace touchstream::testing {
namespace {

class StatsCapture : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_STATS) json = event.str();
  }
  std::string json;
};

class KnownTopicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kafka = EmbeddedKafka::Start(1);
    ASSERT_TRUE(kafka.ok()) << kafka.status().message();
    kafka_ = std::move(*kafka);
    ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{"out-a", 3}).ok());
    ASSERT_TRUE(kafka_->CreateTopic(TopicConfig{"out-b", 1}).ok());
    std::string error;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    ASSERT_EQ(conf->set("bootstrap.servers", kafka_->bootstrap_servers(), error),
              RdKafka::Conf::CONF_OK);
    ASSERT_EQ(conf->set("statistics.interval.ms", "100", error), RdKafka::Conf::CONF_OK);
    ASSERT_EQ(conf->set("event_cb", static_cast<RdKafka::EventCb*>(&stats_), error),
              RdKafka::Conf::CONF_OK);
    producer_.reset(RdKafka::Producer::create(conf.get(), error));
    ASSERT_TRUE(producer_) << error;
  }
  void TearDown() override {
    known_.Clear();
    producer_.reset();
    kafka_.reset();
  }

  // The producer's next statistics (librdkafka's JSON), after every change made before the call.
  std::string NextStats() {
    producer_->poll(0);
    stats_.json.clear();
    for (int i = 0; i < 100 && stats_.json.empty(); ++i) producer_->poll(100);
    return stats_.json;
  }
  // The statistics' object of `topic` (under "topics"), empty if the producer does not hold it.
  static std::string TopicStats(const std::string& json, const std::string& topic) {
    const size_t topics = json.find("\"topics\":{");
    if (topics == std::string::npos) return "";
    const size_t begin = json.find("\"topic\":\"" + topic + "\"", topics);
    if (begin == std::string::npos) return "";
    const size_t end = json.find("\"topic\":\"", begin + 1);
    return json.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  }

  std::unique_ptr<EmbeddedKafka> kafka_;
  StatsCapture stats_;
  std::unique_ptr<RdKafka::Producer> producer_;
  KnownTopics known_;
};

TEST_F(KnownTopicsTest, AProducerAloneDoesNotKnowATopicBeforeItsFirstRecord) {
  // The control of the next test: without KnownTopics the statistics do not list the topic.
  const std::string json = NextStats();
  ASSERT_FALSE(json.empty()) << "no statistics from the producer";
  EXPECT_EQ(TopicStats(json, "out-a"), "") << json;
}

TEST_F(KnownTopicsTest, LearntTopicsAreKnownWithTheirPartitionsBeforeTheirFirstRecord) {
  EXPECT_EQ(known_.Learn(*producer_, {"out-a", "out-b", "out-a"}, 5'000),
            std::vector<std::string>{});
  EXPECT_EQ(known_.size(), 2u);
  const std::string json = NextStats();
  ASSERT_FALSE(json.empty()) << "no statistics from the producer";
  // Each partition with its leader (-1 while the metadata is not known).
  const std::regex led("\"partition\":([0-9]+), \"broker\":[0-9]+, \"leader\":[0-9]+");
  const std::string a = TopicStats(json, "out-a");
  const std::string b = TopicStats(json, "out-b");
  EXPECT_EQ(std::distance(std::sregex_iterator(a.begin(), a.end(), led), std::sregex_iterator()), 3)
      << json;
  EXPECT_EQ(std::distance(std::sregex_iterator(b.begin(), b.end(), led), std::sregex_iterator()), 1)
      << json;
}

TEST_F(KnownTopicsTest, ATopicThatDoesNotExistIsReturnedAndNotAskedFor) {
  EXPECT_EQ(known_.Learn(*producer_, {"out-a", "not-there"}, 5'000),
            std::vector<std::string>{"not-there"});
  EXPECT_EQ(known_.size(), 1u);
  // A handle would have librdkafka ask for it at its next scan of unknown topics (every second),
  // which the embedded Kafka, as a broker with auto.create.topics.enable, answers by creating it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(TopicStats(NextStats(), "not-there"), "");
  RdKafka::Metadata* raw = nullptr;
  ASSERT_EQ(producer_->metadata(true, nullptr, &raw, 5'000), RdKafka::ERR_NO_ERROR);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  for (const RdKafka::TopicMetadata* topic : *metadata->topics()) {
    EXPECT_NE(topic->topic(), "not-there");
  }
}

TEST_F(KnownTopicsTest, AHandleOfATopicThatDoesNotExistHasTheEmbeddedKafkaCreateIt) {
  // The control of the test above: what asking for a missing topic does on this broker.
  std::string error;
  std::unique_ptr<RdKafka::Topic> handle(
      RdKafka::Topic::create(producer_.get(), "asked-for", nullptr, error));
  ASSERT_TRUE(handle) << error;
  bool created = false;
  for (int i = 0; i < 50 && !created; ++i) {
    producer_->poll(100);
    RdKafka::Metadata* raw = nullptr;
    ASSERT_EQ(producer_->metadata(true, nullptr, &raw, 5'000), RdKafka::ERR_NO_ERROR);
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    for (const RdKafka::TopicMetadata* topic : *metadata->topics()) {
      created = created || topic->topic() == "asked-for";
    }
  }
  EXPECT_TRUE(created);
}

TEST_F(KnownTopicsTest, WithNoMetadataEveryTopicIsReturned) {
  kafka_.reset();  // no broker: the request times out
  EXPECT_EQ(known_.Learn(*producer_, {"out-a", "out-b"}, 200),
            (std::vector<std::string>{"out-a", "out-b"}));
  EXPECT_EQ(known_.size(), 0u);
}

}  // namespace
}  // namespace touchstream::testing
