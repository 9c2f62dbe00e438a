export {
  planImagePrune,
  DEFAULT_KEEP_RELEASES,
  type StackImage,
  type ImagePrunePlan,
  type ImagePruneOptions,
  type KeepReason,
} from './plan-image-prune.js';
