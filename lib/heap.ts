import v8 from "node:v8";
import vm from "node:vm";

/**
 * For a job that works through large inputs one after another (ams-graphs, store by store): call
 * the returned function between steps, and it runs a full garbage collection once the heap has
 * grown by `growth` bytes since the last one. Left alone, V8 lets the heap reach several times
 * what the job keeps before collecting, so the peak memory followed the garbage of past steps
 * rather than what is kept. V8's gc() is exposed once, without a command-line flag.
 */
export function collectBetweenSteps(growth: number): () => void {
  let gc: (() => void) | undefined;
  const used = () => v8.getHeapStatistics().used_heap_size;
  let after = used();
  return () => {
    if (used() - after < growth) return;
    if (!gc) {
      v8.setFlagsFromString("--expose-gc");
      gc = vm.runInNewContext("gc") as () => void;
    }
    gc();
    after = used();
  };
}
