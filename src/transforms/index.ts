/** Request and response transforms (SPEC §2 "Transforms") and the image-to-text cascade. */
export { mergeTransforms, hasRequestTransforms, applyRequestTransforms } from './pipeline';
export { prefixCompletion, createStreamPrefixer } from './response-prefix';
export {
  ImageToTextService,
  hasImages,
  imageKey,
  DEFAULT_IMAGE_PROMPT,
  type ImageCacheMetrics,
  type DescribeImage,
} from './image-to-text';
export { mergeConsecutiveUser } from './merge-consecutive-user';
export { dropEmptyMessages } from './drop-empty-messages';
export { stripAssistantTags, stripTags } from './strip-assistant-tags';
export { nonEmptyContent } from './non-empty-content';
export { maxTokensCap } from './max-tokens-cap';
export { mergeStop } from './stop-merge';
export { applyDefaults, applyOverrides, dropParams } from './params';
