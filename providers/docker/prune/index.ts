export { pruneImages, listStackImages, parseStackImages, imageRepository, type PruneResult } from './prune-images.js';
