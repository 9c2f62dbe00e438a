export {
  planImagePrune,
  type StackImage,
  type ImagePrunePlan,
  type ImagePruneOptions,
  type KeepReason,
} from './plan-image-prune.js';
