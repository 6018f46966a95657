// The app-wide cache of fetched GeoJSON layers: drilling back up draws at once.
import { api } from '../api'
import { LayerCache } from './layers'

export const layerCache = new LayerCache((q) => api.geoLayer(q))
