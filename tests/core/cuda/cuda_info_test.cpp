#include <gtest/gtest.h>

#include "core/cuda/cuda_info.h"

namespace moe {
namespace {

TEST(CudaInfo, InventoryIsConsistentWithTheBuild) {
  const CudaInventory inv = cuda_inventory();
#ifdef MOE_HAVE_CUDA
  EXPECT_TRUE(inv.compiled_in);
#else
  EXPECT_FALSE(inv.compiled_in);
  EXPECT_TRUE(inv.devices.empty());
#endif
  if (inv.devices.empty()) {
    EXPECT_FALSE(inv.note.empty());
    GTEST_SKIP() << "no CUDA device: " << inv.note;
  }
  for (const CudaDevice& d : inv.devices) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_GT(d.total_bytes, 0u);
    EXPECT_LE(d.free_bytes, d.total_bytes);
    EXPECT_GE(d.compute_major, 5);
  }
}

}  // namespace
}  // namespace moe
